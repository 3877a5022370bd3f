// nst serve: the one web page (GET /), plain HTML, CSS and JavaScript held in
// the binary: no build step, no file read at run time, no other origin.
#pragma once

#include <string>

namespace nst::serve {

const std::string& page_html();

}  // namespace nst::serve
