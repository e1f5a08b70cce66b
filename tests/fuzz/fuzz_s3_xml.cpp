// S3 answers (listings, errors, multipart) as the S3 backend reads them.
#include "fuzz.h"
#include "storage/s3/xml.h"

ARCA_FUZZ_TARGET(data, size) {
  std::string doc = arca_fuzz::text(data, size);
  for (const char* tag : {"Contents", "Key", "Size", "Code", "Message", "NextContinuationToken", "UploadId", "ETag"}) {
    for (auto e : arca::xml::elements(doc, tag)) {
      (void)arca::xml::text(e, "Key");
      (void)arca::xml::decode(e);
    }
    (void)arca::xml::text(doc, tag);
  }
  (void)arca::xml::escape(arca::xml::decode(doc));
}
