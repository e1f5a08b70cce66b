// Integers read from JSON that a key holder or a server may have written. nlohmann's get<T>()
// of 1e300 is a float-to-integer overflow (undefined behaviour) and of -1 into an unsigned type a
// silent wrap; Arca writes only integers, so anything a field cannot hold is damage
// (docs/security.md, "Declared sizes and counts").
#pragma once
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace arca {

// `v` as a T if it is an integer T can hold (an integral float within range too: JSON does not
// distinguish 3 from 3.0); nullopt for anything else.
template <class T>
std::optional<T> json_integer(const nlohmann::json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (std::in_range<T>(u)) return T(u);
  } else if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (std::in_range<T>(i)) return T(i);
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    // [min, 2^digits): both ends are exact powers of two (or zero) as doubles.
    if (std::isfinite(d) && d == std::trunc(d) && d >= double(std::numeric_limits<T>::min()) &&
        d < std::ldexp(1.0, std::numeric_limits<T>::digits))
      return T(d);
  }
  return std::nullopt;
}

}  // namespace arca
