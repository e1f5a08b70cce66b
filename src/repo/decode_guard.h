// Decoding an object allocates from sizes and counts it declares. Decoders bound those by the
// bytes present, and this is the backstop: an allocation that still fails while an object is
// decoded comes from a damaged or crafted object, not from the machine, so it is Corrupt naming
// the object, and the callers' "skip a damaged object" handling applies (docs/security.md,
// "Declared sizes and counts").
#pragma once
#include <new>
#include <stdexcept>
#include <string>

#include "util/error.h"

namespace arca {

template <typename Fn>
auto decode_guarded(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::Corrupt, what + ": declares more than can be allocated (damaged or crafted)");
  } catch (const std::length_error&) {
    throw Error(ErrorKind::Corrupt, what + ": declares a size beyond any limit (damaged or crafted)");
  }
}

}  // namespace arca
