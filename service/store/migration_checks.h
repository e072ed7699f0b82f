// Internal to service/store: the checks ApplySqliteMigrations and
// ApplyPostgresMigrations make of a migration list and of a database's
// recorded schema version.
#ifndef LABELPORT_SERVICE_STORE_MIGRATION_CHECKS_H_
#define LABELPORT_SERVICE_STORE_MIGRATION_CHECKS_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace labelport::store {

// INTERNAL unless the versions of `migrations` (each with `version` and
// `name`) strictly increase from 1 on.
template <typename Migration>
absl::Status CheckMigrationsOrdered(absl::Span<const Migration> migrations) {
  int previous = 0;
  for (const Migration& migration : migrations) {
    if (migration.version <= previous) {
      return absl::InternalError(absl::StrCat("apply migrations: migration ", migration.version,
                                              " (", migration.name, ") does not follow version ",
                                              previous));
    }
    previous = migration.version;
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION when the database's `recorded` schema version is newer
// than the `latest` migration this build knows.
inline absl::Status CheckSchemaNotNewer(int recorded, int latest) {
  if (recorded > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("apply migrations: the database schema is at version ", recorded,
                     ", newer than the latest version this build knows (", latest,
                     "); run a newer labelport release against this database"));
  }
  return absl::OkStatus();
}

}  // namespace labelport::store

#endif  // LABELPORT_SERVICE_STORE_MIGRATION_CHECKS_H_
