// The local image index: which names (tags) point at which images in the
// store, as `docker images` lists them.
//
// On-disk format, version 1: one store record per tag (see store.h),
//   kind  "images"
//   key   the normalized reference with its tag, e.g.
//         "docker.io/library/app:v1" (Reference::ToString(); ":latest" is
//         added to a name given without a tag, as docker does)
//   value one JSON object, fields in this order:
//         {"digest":"sha256:<hex>",
//          "mediaType":"application/vnd.oci.image.manifest.v1+json",
//          "size":1234,
//          "created":"2024-01-02T03:04:05Z"}
//         digest/mediaType/size describe the image's root blob (a manifest,
//         or an index for a multi-platform image), which is in the store;
//         created is when the tag was written (RFC 3339, UTC, seconds).
//         Unknown fields are ignored when reading.
//
// Concurrency: a record is replaced atomically (temp file + rename), so two
// builds tagging the same name at once leave one whole record, the last
// writer's, as two `docker tag` calls would. No lock is needed.
//
// Untagging only deletes the record. The blobs stay until the next prune
// (lib/build/gc.h), which keeps every blob an "images" record reaches.
#ifndef STRATA_IMAGE_LOCAL_IMAGES_H_
#define STRATA_IMAGE_LOCAL_IMAGES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/oci.h"
#include "image/reference.h"
#include "store/store.h"

namespace strata::image {

/// The store record kind of the local image index.
inline constexpr char kImageRecordKind[] = "images";

/// One tag of the local index.
struct LocalImage {
  Reference ref;        // normalized, with a tag, without a digest
  std::string name;     // ref.ToString(): the record key
  Descriptor manifest;  // media type, digest and size of the root blob
  std::string created;  // when the tag was written (RFC 3339)
};

/// The record key for `ref`: "domain/path:tag", with tag "latest" when
/// `ref` has none. A digest in `ref` is dropped if it also has a tag;
/// InvalidArgument for a reference with only a digest (it names no tag).
base::Result<std::string> ImageKey(const Reference& ref);

/// Points the tag `ref` at `manifest` (a manifest or index blob that must
/// be in the store: NotFound otherwise), replacing what it named before.
base::Status TagImage(const store::Store& store, const Reference& ref,
                      const Descriptor& manifest);

/// The image `ref` names, or nullopt if there is none. A reference with a
/// tag looks the tag up (and, if it also carries a digest, the tag must
/// point at that digest); a digest-only reference ("app@sha256:...")
/// matches any tag of that repository pointing at the digest.
base::Result<std::optional<Descriptor>> LookupImage(const store::Store& store,
                                                    const Reference& ref);

/// Every tag, sorted by name. A damaged record is a Parse error naming it
/// (remove it with UntagImage).
base::Result<std::vector<LocalImage>> ListImages(const store::Store& store);

/// Removes the tag `ref`. NotFound ("no such image: app:v1") if it does
/// not exist. The blobs stay until the next prune.
base::Status UntagImage(const store::Store& store, const Reference& ref);

/// The record text for an entry (exposed for tests).
std::string ImageRecordToJson(const Descriptor& manifest,
                              std::string_view created);

/// Parses a record's text; `key` is its record key (for messages).
base::Result<LocalImage> ParseImageRecord(std::string_view key,
                                          std::string_view json);

}  // namespace strata::image

#endif  // STRATA_IMAGE_LOCAL_IMAGES_H_
