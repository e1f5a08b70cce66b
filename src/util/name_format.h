// Showing file names, which are arbitrary bytes, on a terminal and in JSON without losing or
// injecting anything.
#pragma once
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>

namespace arca {

bool is_valid_utf8(std::string_view s);  // strict RFC 3629

// For a terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8 become escapes
// (\n, \t, \r, \xHH) and a backslash becomes \\, so a name can neither break a line nor send
// terminal commands, and distinct names stay distinct.
std::string escape_name(std::string_view s);

// Terminal columns of UTF-8 text: one per character (continuation bytes take none).
size_t display_width(std::string_view s);

// Levenshtein distance (bytes): for "did you mean …?" suggestions of commands and keys.
size_t edit_distance(std::string_view a, std::string_view b);

// Sets j[field] to `s`; if `s` is not valid UTF-8, j[field] holds it with U+FFFD for the bad
// bytes (for reading) and j[field + "_b64"] the exact bytes in base64 (for programs).
void set_name_field(nlohmann::json& j, const std::string& field, const std::string& s);

}  // namespace arca
