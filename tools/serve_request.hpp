// nst serve: what the server reads from a request besides the images, parsed
// strictly here (no HTTP library in this file, so fuzz/fuzz_serve_request.cpp
// can drive every function with arbitrary bytes). Each bad value throws
// RequestError with the HTTP status and a message naming the field.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nst::serve {

// An error the client caused (4xx) or a refusal (503): `status` is the HTTP
// status, what() the message sent back as {"error": ...}.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A whole number in lo..hi written in plain decimal digits (no sign, no
// spaces, at most 18 digits). 400 otherwise, naming the field and the range.
int64_t parse_int_field(const std::string& field, const std::string& text, int64_t lo, int64_t hi);

// A style mix "0.3,0.7": one finite weight per style (|w| <= 100, as nst fast's
// --style-mix), exactly style_count of them. 400 otherwise.
std::vector<double> parse_style_mix(const std::string& text, int64_t style_count);

// The picture's file type: "png" (default when empty) or "jpg" / "jpeg".
enum class ImageFormat { png, jpg };
ImageFormat parse_format(const std::string& text);
const char* content_type(ImageFormat format);

// Job ids are 32 lowercase hexadecimal digits (128 random bits).
bool valid_job_id(const std::string& id);
std::string new_job_id();  // from std::random_device (the kernel's generator)

// A client-given file name, fit to be quoted in a message: printable ASCII
// without quotes or backslashes, at most 64 characters; else `fallback`.
std::string display_name(const std::string& filename, const std::string& fallback);

// The metrics label of a request: its route pattern ("/api/jobs/{id}"), or
// "other" for anything the server does not serve, so that the number of
// label values stays bounded whatever clients send.
std::string route_label(const std::string& path);
// GET, HEAD, POST, DELETE, or "other".
std::string method_label(const std::string& method);

}  // namespace nst::serve
