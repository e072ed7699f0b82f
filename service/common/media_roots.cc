#include "service/common/media_roots.h"

#include <filesystem>
#include <optional>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "service/common/errors.h"

namespace labelport::common {
namespace {

// The components of an absolute path without empty and "." ones; nullopt
// when one is "..".
std::optional<std::vector<absl::string_view>> Components(absl::string_view path) {
  std::vector<absl::string_view> out;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    out.push_back(part);
  }
  return out;
}

bool IsBeneath(const std::filesystem::path& path, const std::filesystem::path& dir) {
  const std::string p = path.string();
  const std::string d = dir.string();
  return p == d || d == "/" || absl::StartsWith(p, absl::StrCat(d, "/"));
}

// PERMISSION_DENIED "media path '<path>' is not readable<why>", with the
// reason MEDIA_PATH_NOT_ALLOWED.
absl::Status MediaPathNotReadable(absl::string_view path, absl::string_view why) {
  return WithDetails(absl::PermissionDeniedError(absl::StrCat("media path '", ShownMediaPath(path),
                                                              "' is not readable", why)),
                     "", kMediaPathNotAllowedReason);
}

}  // namespace

std::string ShownMediaPath(absl::string_view path) {
  if (path.size() <= kMaxShownPathChars) return std::string(path);
  size_t cut = kMaxShownPathChars;
  while (cut > 0 && (static_cast<unsigned char>(path[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(path.substr(0, cut), "...");
}

absl::Status MediaPathNotAllowed(absl::string_view path) {
  return MediaPathNotReadable(
      path,
      " under the media roots allowed for this tenant (a path must be absolute, without '..', "
      "beneath a media root that symlinks do not leave, and never names a file of the server)");
}

absl::Status NoMediaRoots(absl::string_view path) {
  return MediaPathNotReadable(
      path,
      ": no media roots are allowed for this tenant, so server paths cannot be used (send the "
      "bytes with UploadMedia and reference them by content_digest, or ask the operator for a "
      "media root)");
}

absl::StatusOr<std::string> NormalizeMediaRoot(absl::string_view root) {
  if (!absl::StartsWith(root, "/"))
    return absl::InvalidArgumentError(
        absl::StrCat("'", ShownMediaPath(root), "' must be an absolute directory path"));
  auto parts = Components(root);
  if (!parts.has_value())
    return absl::InvalidArgumentError(
        absl::StrCat("'", ShownMediaPath(root), "' must not contain '..' components"));
  return absl::StrCat("/", absl::StrJoin(*parts, "/"));
}

absl::Status CheckMediaRootDirectory(const std::string& root, const std::string& data_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec))
    return absl::InvalidArgumentError(
        absl::StrCat("'", ShownMediaPath(root), "' is not an existing directory"));
  if (data_dir.empty()) return absl::OkStatus();
  const std::filesystem::path real_root = std::filesystem::canonical(root, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("'", ShownMediaPath(root), "' cannot be resolved: ", ec.message()));
  const std::filesystem::path real_data =
      std::filesystem::weakly_canonical(std::filesystem::absolute(data_dir, ec), ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("the data directory '", data_dir, "' cannot be resolved: ", ec.message()));
  if (IsBeneath(real_root, real_data) && real_data != "/")
    return absl::InvalidArgumentError(
        absl::StrCat("'", ShownMediaPath(root), "' lies inside the data directory ('",
                     real_data.string(), "'), whose files are never readable as media"));
  return absl::OkStatus();
}

absl::StatusOr<MediaRootMatch> MatchMediaRoot(absl::string_view path,
                                              const std::vector<std::string>& roots) {
  if (roots.empty()) return NoMediaRoots(path);
  if (!absl::StartsWith(path, "/")) return MediaPathNotAllowed(path);
  auto parts = Components(path);
  if (!parts.has_value()) return MediaPathNotAllowed(path);
  std::optional<size_t> best;
  size_t best_depth = 0;
  for (const std::string& root : roots) {
    auto root_parts = Components(root);
    if (!root_parts.has_value() || root_parts->size() > parts->size()) continue;
    bool prefix = true;
    for (size_t k = 0; prefix && k < root_parts->size(); ++k)
      prefix = (*root_parts)[k] == (*parts)[k];
    if (prefix && (!best.has_value() || root_parts->size() < best_depth)) {
      best = &root - roots.data();
      best_depth = root_parts->size();
    }
  }
  if (!best.has_value()) return MediaPathNotAllowed(path);
  MediaRootMatch match;
  match.root = roots[*best];
  std::vector<absl::string_view> rest(parts->begin() + static_cast<ptrdiff_t>(best_depth),
                                      parts->end());
  match.relative = rest.empty() ? "." : absl::StrJoin(rest, "/");
  if (absl::EndsWith(path, "/") && !rest.empty()) absl::StrAppend(&match.relative, "/");
  return match;
}

}  // namespace labelport::common
