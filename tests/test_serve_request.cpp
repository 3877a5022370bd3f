// nst serve's own parsing of request fields (tools/serve_request.hpp): each bad
// value is a RequestError with its status and a message naming the field.
#include <catch2/catch.hpp>
#include <set>

#include "tools/serve_request.hpp"

using namespace nst::serve;

namespace {

// The call throws RequestError with `status` and a message containing `text`.
template <class F>
void check_refused(F&& call, int status, const std::string& text) {
  try {
    call();
    FAIL("no error; expected: " << text);
  } catch (const RequestError& e) {
    INFO(e.what());
    CHECK(e.status() == status);
    CHECK(std::string(e.what()).find(text) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("serve request: whole numbers are plain digits within their range", "[serve]") {
  CHECK(parse_int_field("size", "32", 32, 512) == 32);
  CHECK(parse_int_field("size", "0512", 32, 512) == 512);
  CHECK(parse_int_field("n", "999999999999999999", 0, INT64_MAX) == 999999999999999999);
  for (const char* bad : {"", " 64", "64 ", "+64", "-1", "6.4", "0x40", "1e3", "sixty",
                          "9999999999999999999"})
    check_refused([&] { parse_int_field("size", bad, 32, 512); }, 400, "field 'size': '");
  check_refused([] { parse_int_field("size", "16", 32, 512); }, 400,
                "field 'size': 16 is out of range (expected 32..512)");
  check_refused([] { parse_int_field("x", std::string("1\0" "2", 3), 0, 9); }, 400, "'1?2'");
}

TEST_CASE("serve request: a style mix has one finite weight per style", "[serve]") {
  CHECK(parse_style_mix("0.3,0.7", 2) == std::vector<double>{0.3, 0.7});
  CHECK(parse_style_mix("-1,2e0,100", 3) == std::vector<double>{-1, 2, 100});
  CHECK(parse_style_mix("1", 1) == std::vector<double>{1});
  check_refused([] { parse_style_mix("1", 2); }, 400, "field 'mix': 1 weight, but the model has 2 styles");
  check_refused([] { parse_style_mix("1,2,3", 2); }, 400, "more weights than the model's 2 styles");
  for (const char* bad : {"", ",", "1,", ",1", "1,,1", "a,b", "inf,1", "nan,1", "1e400,1",
                          "101,0", " 1,2", "1;2", "0x1,2"})
    check_refused([&] { parse_style_mix(bad, 2); }, 400, "field 'mix': ");
  check_refused([] { parse_style_mix(std::string(5000, '1'), 1); }, 400, "longer than 4096");
  // A list far longer than the styles stops at the first extra weight.
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "1,";
  check_refused([&] { parse_style_mix(many + "1", 3); }, 400, "more weights");
}

TEST_CASE("serve request: formats ids names and route labels", "[serve]") {
  CHECK(parse_format("") == ImageFormat::png);
  CHECK(parse_format("jpeg") == ImageFormat::jpg);
  check_refused([] { parse_format("PNG"); }, 400, "field 'format': 'PNG' is not png or jpg");
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_job_id();
    CHECK(valid_job_id(id));
    ids.insert(id);
  }
  CHECK(ids.size() == 100);
  for (const char* bad : {"", "0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0",
                          "0123456789ABCDEF0123456789abcdef", "../../etc/passwd", "0123456789abcdef0123456789abcdeg"})
    CHECK_FALSE(valid_job_id(bad));
  CHECK(display_name("cat.jpg", "image") == "cat.jpg");
  CHECK(display_name("", "image") == "image");
  CHECK(display_name("a'b.png", "image") == "image");
  CHECK(display_name("line\nbreak.png", "image") == "image");
  CHECK(display_name(std::string(65, 'a'), "image") == "image");
  CHECK(route_label("/api/jobs/abc") == "/api/jobs/{id}");
  CHECK(route_label("/api/jobs/abc/image") == "/api/jobs/{id}/image");
  CHECK(route_label("/api/models/udnie/thumbnail") == "/api/models/{name}/thumbnail");
  CHECK(route_label("/api/fast") == "/api/fast");
  for (const char* other : {"/api/jobs/", "/api/jobs/a/b", "/api/jobs//image", "/api/models//thumbnail",
                            "/api/models/a/b/thumbnail", "/x", "", "/api/jobs/a/image/x"})
    CHECK(route_label(other) == "other");
  CHECK(method_label("DELETE") == "DELETE");
  CHECK(method_label("BREW") == "other");
}
