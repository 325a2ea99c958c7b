// Event -> compact NIP-01 JSON that re-verifies in any implementation (the export path).
#pragma once

#include <string>

#include "nostr/event.hpp"

namespace pb {

// Appends {"id":..,"pubkey":..,"created_at":..,"kind":..,"tags":..,"content":..,"sig":..} (no newline).
void append_event_json(std::string& out, const Event& ev);

}  // namespace pb
