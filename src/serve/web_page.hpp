// The self-contained HTML page served on GET / to browsers (no external assets; embedded in the binary).
#pragma once

#include <string_view>

namespace pb::serve {

std::string_view web_page_html();

}  // namespace pb::serve
