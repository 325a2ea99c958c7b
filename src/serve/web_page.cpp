#include "serve/web_page.hpp"

namespace pb::serve {
namespace {
#include "serve/web_page.html.inc"
}

std::string_view web_page_html() { return kWebPage; }

}  // namespace pb::serve
