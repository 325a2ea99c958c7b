// The NIP-11 relay information document.
#pragma once

#include <string>

#include "serve/serve_options.hpp"

namespace pb::serve {

std::string nip11_document(const ServeOptions& options);

}  // namespace pb::serve
