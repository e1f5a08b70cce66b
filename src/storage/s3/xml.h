// Just enough XML for S3's answers (ListObjectsV2, errors, multipart): the text of named
// elements, with entities decoded. S3 responses are flat and machine-made; no DTDs, no CDATA.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace arca::xml {

// The raw inner content of every element named `tag` (not nested in one another), in order.
std::vector<std::string_view> elements(std::string_view doc, std::string_view tag);
// Decoded text of the first element named `tag`, or "" if there is none.
std::string text(std::string_view doc, std::string_view tag);
// Decodes &amp; &lt; &gt; &quot; &apos; and numeric character references.
std::string decode(std::string_view s);
// Escapes text for use inside an element.
std::string escape(std::string_view s);

}  // namespace arca::xml
