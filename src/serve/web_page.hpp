// The self-contained HTML page served on GET / to browsers (no external assets; embedded in the binary).
#pragma once

#include <string_view>

namespace pb::serve {

std::string_view web_page_html();

// The page's Content-Security-Policy: nothing from anywhere but its own inline <style> and <script>
// (allowed by their sha256, so injected markup could run nothing) and fetches to its own origin.
std::string_view web_page_csp();

}  // namespace pb::serve
