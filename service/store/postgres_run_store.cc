#include "service/store/postgres_run_store.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/common/errors.h"
#include "service/common/status_macros.h"
#include "service/store/postgres_run_change_listener.h"
#include "service/store/run_records.h"
#include "service/store/transaction.h"

namespace labelport::store {
namespace {

using ::labelport::internal::v1::AnnotationLink;
using ::labelport::internal::v1::SampleProgress;
using ::labelport::v1::AnnotationRun;
using run_records::CheckBackendState;
using run_records::CheckLeaseRequest;
using run_records::CheckPageSize;
using run_records::CheckStartPosition;
using run_records::ClearOwnedFields;
using run_records::FillOwnedFields;
using run_records::OwnedFields;
using run_records::ParseRecord;
using run_records::Prefixed;
using run_records::RenameKeyClash;
using run_records::RunKeyClash;
using run_records::RunNotFound;
using run_records::RunUidNotFound;
using run_records::SerializeRecord;

// Columns read by ReadRun, in this order.
constexpr absl::string_view kSelectRun =
    "SELECT run_id, dataset, anno_key, create_time_ns, update_time_ns, record, revision "
    "FROM runs ";

// The database clock in Unix nanoseconds (microsecond resolution).
constexpr absl::string_view kNowNanos =
    "(floor(extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000)";

// ListClaimableRuns spells these states as literals so that its WHERE clause
// matches the partial index `runs_claimable` of migration 1.
static_assert(labelport::v1::RUN_STATE_PENDING == 1 && labelport::v1::RUN_STATE_UPLOADING == 2,
              "runs_claimable (migration 1) indexes states 1 and 2");

// The longest lease: a larger ttl (e.g. absl::InfiniteDuration()) means
// "until released" in practice (about 31 years).
constexpr int64_t kMaxLeaseMicros = int64_t{1'000'000'000'000'000};

constexpr TransactionMode kRead = TransactionMode::kRead;
constexpr TransactionMode kWrite = TransactionMode::kWrite;

// Rows per multi-row INSERT, well below the protocol's 65535 parameters.
constexpr size_t kRowsPerInsert = 500;

bool IsUniqueViolation(const absl::Status& status, absl::string_view constraint) {
  return PgSqlState(status) == kPgUniqueViolation && PgConstraint(status) == constraint;
}

OwnedFields ReadOwnedFields(const PgResult& rows, int row) {
  OwnedFields owned;
  owned.run_id = rows.Bytes(row, 0);
  owned.dataset = rows.Bytes(row, 1);
  owned.anno_key = rows.Bytes(row, 2);
  owned.create_time_ns = rows.Int(row, 3);
  owned.update_time_ns = rows.Int(row, 4);
  owned.revision = rows.Int(row, 6);
  return owned;
}

// Reads row `row` of a result of kSelectRun.
absl::StatusOr<AnnotationRun> ReadRun(const PgResult& rows, int row, absl::string_view operation) {
  OwnedFields owned = ReadOwnedFields(rows, row);
  LP_ASSIGN_OR_RETURN(AnnotationRun run,
                      ParseRecord<AnnotationRun>(rows.View(row, 5), operation,
                                                 absl::StrCat("record of run ", owned.run_id)));
  FillOwnedFields(owned, run);
  return run;
}

// Announces a change of run `run_id` to every replica's
// PostgresRunChangeListener. Inside the change's transaction, so it is
// delivered if and only if the change commits.
absl::Status NotifyRunChanged(PostgresConnection& db, const std::string& run_id,
                              absl::string_view operation) {
  return db
      .Exec("SELECT pg_notify($1, $2)",
            {PgParam::Text(kPostgresRunChangeChannel), PgParam::Text(run_id)},
            absl::StrCat(operation, ": notify"))
      .status();
}

absl::StatusOr<std::optional<AnnotationRun>> FindRunById(PostgresConnection& db,
                                                         const std::string& run_id,
                                                         absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(
      PgResult rows, db.Exec(absl::StrCat(kSelectRun, "WHERE run_id = $1"), {PgParam::Text(run_id)},
                             absl::StrCat(operation, ": read run")));
  if (rows.rows() == 0) return std::nullopt;
  return ReadRun(rows, 0, operation);
}

absl::StatusOr<AnnotationRun> LoadRunById(PostgresConnection& db, const std::string& run_id,
                                          absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(std::optional<AnnotationRun> run, FindRunById(db, run_id, operation));
  return run_records::StillThere(std::move(run), run_id, operation);
}

// NOT_FOUND unless a run has `run_id`. With `lock`, the run row is locked
// against deletion until the transaction ends (writers of its job rows).
absl::Status CheckRunExists(PostgresConnection& db, const std::string& run_id,
                            absl::string_view operation, bool lock = false) {
  LP_ASSIGN_OR_RETURN(PgResult rows,
                      db.Exec(lock ? "SELECT 1 FROM runs WHERE run_id = $1 FOR KEY SHARE"
                                   : "SELECT 1 FROM runs WHERE run_id = $1",
                              {PgParam::Text(run_id)}, absl::StrCat(operation, ": find run")));
  if (rows.rows() == 0) return RunUidNotFound(run_id);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> FindRunId(PostgresConnection& db, const RunKey& key,
                                                     absl::string_view operation,
                                                     absl::string_view lock = "") {
  LP_ASSIGN_OR_RETURN(
      PgResult rows,
      db.Exec(absl::StrCat("SELECT run_id FROM runs WHERE tenant = $1 AND dataset = $2 AND "
                           "anno_key = $3 ",
                           lock),
              {PgParam::Text(key.tenant), PgParam::Text(key.dataset), PgParam::Text(key.anno_key)},
              absl::StrCat(operation, ": find run")));
  if (rows.rows() == 0) return std::nullopt;
  return rows.Bytes(0, 0);
}

// The records of the rows of `sql` (one parameter, the run id), whose first
// column is a serialised `Message`.
template <typename Message>
absl::StatusOr<std::vector<Message>> LoadRecords(PostgresConnection& db, absl::string_view sql,
                                                 const std::vector<PgParam>& params,
                                                 const std::string& run_id,
                                                 absl::string_view operation) {
  LP_ASSIGN_OR_RETURN(PgResult rows,
                      db.Exec(sql, params, absl::StrCat(operation, ": select records")));
  std::vector<Message> records;
  records.reserve(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) {
    LP_ASSIGN_OR_RETURN(
        Message record,
        ParseRecord<Message>(rows.View(i, 0), operation,
                             absl::StrCat(Message::descriptor()->name(), " of run ", run_id)));
    records.push_back(std::move(record));
  }
  return records;
}

// In one read transaction: NOT_FOUND unless run `run_id` exists, else
// LoadRecords.
template <typename Message>
absl::StatusOr<std::vector<Message>> LoadRunRecords(PostgresConnectionPool& pool,
                                                    absl::string_view sql,
                                                    const std::vector<PgParam>& params,
                                                    const std::string& run_id,
                                                    absl::string_view operation) {
  return InTransaction(pool, TransactionMode::kRead, operation,
                       [&](PostgresConnection& db) -> absl::StatusOr<std::vector<Message>> {
                         LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, operation));
                         return LoadRecords<Message>(db, sql, params, run_id, operation);
                       });
}

// INSERT `head` VALUES (row), (row), ... `tail`, in chunks; every row has the
// same number of parameters.
absl::Status InsertRows(PostgresConnection& db, absl::string_view head,
                        const std::vector<std::vector<PgParam>>& rows, absl::string_view tail,
                        absl::string_view operation) {
  for (size_t start = 0; start < rows.size(); start += kRowsPerInsert) {
    const size_t end = std::min(rows.size(), start + kRowsPerInsert);
    std::string sql = absl::StrCat(head, " VALUES ");
    std::vector<PgParam> params;
    for (size_t i = start; i < end; ++i) {
      absl::StrAppend(&sql, i == start ? "(" : ", (");
      for (size_t j = 0; j < rows[i].size(); ++j) {
        params.push_back(rows[i][j]);
        absl::StrAppend(&sql, j == 0 ? "$" : ", $", params.size());
      }
      absl::StrAppend(&sql, ")");
    }
    absl::StrAppend(&sql, " ", tail);
    LP_RETURN_IF_ERROR(db.Exec(sql, params, operation).status());
  }
  return absl::OkStatus();
}

// The COPY that AppendSampleCopyRows' rows feed.
constexpr absl::string_view kCopySamples =
    "COPY run_samples (run_id, position, sample_id, sample) FROM STDIN";

// Appends to `rows` the rows of `samples` of run `run_id`, at positions from
// `first_position` on, in the text format of kCopySamples.
absl::Status AppendSampleCopyRows(const std::string& run_id, int64_t first_position,
                                  const std::vector<labelport::v1::Sample>& samples,
                                  absl::string_view operation, std::string& rows) {
  std::string blob;
  for (size_t i = 0; i < samples.size(); ++i) {
    const labelport::v1::Sample& sample = samples[i];
    if (!sample.SerializeToString(&blob)) {
      return absl::InvalidArgumentError(
          absl::StrCat(operation, ": sample '", sample.id(), "' cannot be serialised"));
    }
    absl::StrAppend(&rows, run_id, "\t", first_position + static_cast<int64_t>(i), "\t");
    AppendCopyText(sample.id(), rows);
    rows += '\t';
    AppendCopyBytea(blob, rows);
    rows += '\n';
  }
  return absl::OkStatus();
}

// A text[] literal of `values` ({"a","b"}), for a parameter cast to text[].
std::string TextArrayLiteral(const std::vector<absl::string_view>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

// The first of `ids` (in their order) that `table` holds for run `run_id` in
// column `column`, if any.
absl::StatusOr<std::optional<std::string>> FirstTaken(PostgresConnection& db,
                                                      absl::string_view table,
                                                      absl::string_view column,
                                                      const std::string& run_id,
                                                      const std::vector<absl::string_view>& ids,
                                                      absl::string_view operation) {
  if (ids.empty()) return std::nullopt;
  LP_ASSIGN_OR_RETURN(
      PgResult rows,
      db.Exec(
          absl::StrCat("SELECT b.id FROM unnest($2::text::text[]) WITH ORDINALITY AS b(id, n) "
                       "JOIN ",
                       table, " t ON t.run_id = $1 AND t.", column, " = b.id ORDER BY b.n LIMIT 1"),
          {PgParam::Text(run_id), PgParam::Text(TextArrayLiteral(ids))},
          absl::StrCat(operation, ": find taken ids")));
  if (rows.rows() == 0) return std::nullopt;
  return rows.Bytes(0, 0);
}

// The ttl of a lease in microseconds, at least 1.
int64_t TtlMicros(absl::Duration ttl) {
  return std::clamp<int64_t>(absl::ToInt64Microseconds(ttl), int64_t{1}, kMaxLeaseMicros);
}

// The ttl of a spool in microseconds (not positive: expired at once).
int64_t SpoolTtlMicros(absl::Duration ttl) {
  return std::clamp<int64_t>(absl::ToInt64Microseconds(ttl), -kMaxLeaseMicros, kMaxLeaseMicros);
}

// The run already recorded for `request_id` of `tenant` (created = false),
// if there is one; nullopt too for an empty request id.
absl::StatusOr<std::optional<CreateRunResult>> FindReplay(PostgresConnection& db,
                                                          const std::string& tenant,
                                                          const std::string& request_id,
                                                          absl::string_view operation) {
  if (request_id.empty()) return std::nullopt;
  LP_ASSIGN_OR_RETURN(
      PgResult replay,
      db.Exec("SELECT run_id FROM request_ids WHERE tenant = $1 AND request_id = $2",
              {PgParam::Text(tenant), PgParam::Text(request_id)},
              absl::StrCat(operation, ": find request id")));
  if (replay.rows() == 0) return std::nullopt;
  CreateRunResult result;
  result.run_id = replay.Bytes(0, 0);
  LP_ASSIGN_OR_RETURN(result.run, LoadRunById(db, result.run_id, operation));
  result.created = false;
  return result;
}

// Records that `request_id` of `tenant` (when given) created `run_id`, for
// FindReplay.
absl::Status RecordRequestId(PostgresConnection& db, const std::string& tenant,
                             const std::string& request_id, const std::string& run_id,
                             absl::string_view operation) {
  if (request_id.empty()) return absl::OkStatus();
  return db
      .Exec("INSERT INTO request_ids (tenant, request_id, run_id) VALUES ($1, $2, $3)",
            {PgParam::Text(tenant), PgParam::Text(request_id), PgParam::Text(run_id)},
            absl::StrCat(operation, ": record request id"))
      .status();
}

// The parameters $1 to $9 of a live run's row: run_id, tenant, dataset,
// anno_key, backend, state, dataset_slug, request_id and record (`record`
// serialised as `record_blob`).
std::vector<PgParam> LiveRunParams(const std::string& run_id, const NewRun& run,
                                   const AnnotationRun& record, const std::string& record_blob) {
  return {PgParam::Text(run_id),
          PgParam::Text(run.key.tenant),
          PgParam::Text(run.key.dataset),
          PgParam::Text(run.key.anno_key),
          PgParam::Text(record.backend()),
          PgParam::Int(record.state()),
          PgParam::Text(record.darwin().dataset_slug()),
          PgParam::Text(run.request_id),
          PgParam::Bytes(record_blob)};
}

// Runs `body` (storing `run`) as a transaction on `pool`. A unique violation
// may be a concurrent call with the same request id that committed first:
// then once more, where the replay check finds it. Returns the last
// attempt's status; `key_clash` tells whether it failed on the run key.
absl::Status TransactStoringRun(PostgresConnectionPool& pool, absl::string_view operation,
                                const NewRun& run,
                                const std::function<absl::Status(PostgresConnection&)>& body,
                                bool& key_clash) {
  for (int attempt = 0;; ++attempt) {
    absl::Status status = InTransaction(pool, TransactionMode::kWrite, operation, body);
    key_clash = IsUniqueViolation(status, "runs_key_unique");
    const bool request_clash = IsUniqueViolation(status, "request_ids_pkey");
    if (attempt == 0 && !run.request_id.empty() && (key_clash || request_clash)) continue;
    return status;
  }
}

// Deletes the pending run `spool_id` with its samples and label ids (ON
// DELETE CASCADE).
absl::Status DropSpool(PostgresConnection& db, const std::string& spool_id,
                       absl::string_view operation) {
  return db
      .Exec("DELETE FROM runs WHERE run_id = $1 AND spool_expires_at IS NOT NULL",
            {PgParam::Text(spool_id)}, absl::StrCat(operation, ": drop spool"))
      .status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresRunStore>> PostgresRunStore::Create(const Options& options) {
  absl::StatusOr<std::shared_ptr<PostgresConnectionPool>> pool =
      PostgresConnectionPool::OpenMigrated(options.url, options.max_connections,
                                           "PostgresRunStore::Create");
  if (!pool.ok()) return pool.status();
  return std::make_unique<PostgresRunStore>(*std::move(pool));
}

PostgresRunStore::PostgresRunStore(std::shared_ptr<PostgresConnectionPool> pool)
    : pool_(std::move(pool)) {}

PostgresRunStore::~PostgresRunStore() = default;

absl::StatusOr<CreateRunResult> PostgresRunStore::CreateRun(const NewRun& run) {
  constexpr absl::string_view kOp = "CreateRun";
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  if (auto repeat = run_records::RepeatInBatch(run.samples, {})) {
    return run_records::DuplicateSampleId(kOp, repeat->id);
  }
  // The samples in COPY text format, built before the transaction: it is
  // the costly part for large runs.
  const std::string run_id = run_records::NewRunId();
  std::string copy_data;
  LP_RETURN_IF_ERROR(AppendSampleCopyRows(run_id, 0, run.samples, kOp, copy_data));

  CreateRunResult result;
  auto body = [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(std::optional<CreateRunResult> replay,
                        FindReplay(db, run.key.tenant, run.request_id, kOp));
    if (replay.has_value()) {
      result = *std::move(replay);
      return absl::OkStatus();
    }
    LP_ASSIGN_OR_RETURN(
        PgResult inserted,
        db.Exec(absl::StrCat("INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, "
                             "dataset_slug, request_id, record, create_time_ns, update_time_ns) "
                             "SELECT $1::text, $2::text, $3::text, $4::text, $5::text, "
                             "$6::integer, $7::text, $8::text, $9::bytea, now_ns, now_ns FROM "
                             "(SELECT ",
                             kNowNanos, " AS now_ns) AS clock RETURNING create_time_ns"),
                LiveRunParams(run_id, run, record, record_blob),
                absl::StrCat(kOp, ": insert run")));
    LP_RETURN_IF_ERROR(RecordRequestId(db, run.key.tenant, run.request_id, run_id, kOp));
    if (!copy_data.empty()) {
      LP_RETURN_IF_ERROR(db.CopyIn(kCopySamples, copy_data, absl::StrCat(kOp, ": insert samples")));
    }
    result = run_records::CreatedRun(run_id, run.key, record, inserted.Int(0, 0));
    return absl::OkStatus();
  };
  bool key_clash = false;
  absl::Status status = TransactStoringRun(*pool_, kOp, run, body, key_clash);
  if (key_clash) return RunKeyClash(run.key.anno_key);
  LP_RETURN_IF_ERROR(status);
  return result;
}

absl::StatusOr<RunSpool> PostgresRunStore::BeginRunSpool(const RunKey& key,
                                                         const std::string& request_id,
                                                         const std::string& owner,
                                                         absl::Duration ttl) {
  constexpr absl::string_view kOp = "BeginRunSpool";
  RunSpool spool;
  LP_RETURN_IF_ERROR(
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        spool = RunSpool();
        LP_ASSIGN_OR_RETURN(spool.replay, FindReplay(db, key.tenant, request_id, kOp));
        if (spool.replay.has_value()) return absl::OkStatus();
        LP_ASSIGN_OR_RETURN(std::optional<std::string> taken, FindRunId(db, key, kOp));
        if (taken.has_value()) return RunKeyClash(key.anno_key);
        spool.spool_id = run_records::NewRunId();
        // No key yet: dataset '' (never a valid dataset) and the run id as anno_key.
        return db
            .Exec(
                absl::StrCat("INSERT INTO runs (run_id, tenant, dataset, anno_key, backend, state, "
                             "dataset_slug, request_id, record, create_time_ns, update_time_ns, "
                             "spool_owner, spool_expires_at) SELECT $1::text, $2::text, '', "
                             "$1::text, '', -1, '', '', ''::bytea, now_ns, now_ns, $3::text, "
                             "clock_timestamp() + $4::float8 * interval '1 microsecond' FROM "
                             "(SELECT ",
                             kNowNanos, " AS now_ns) AS clock"),
                {PgParam::Text(spool.spool_id), PgParam::Text(key.tenant), PgParam::Text(owner),
                 PgParam::Int(SpoolTtlMicros(ttl))},
                absl::StrCat(kOp, ": insert pending run"))
            .status();
      }));
  return spool;
}

absl::StatusOr<std::optional<SpoolConflict>> PostgresRunStore::AppendToRunSpool(
    const std::string& spool_id, int64_t first_position,
    const std::vector<labelport::v1::Sample>& samples, const std::vector<std::string>& label_ids,
    absl::Duration ttl) {
  constexpr absl::string_view kOp = "AppendToRunSpool";
  if (auto repeat = run_records::RepeatInBatch(samples, label_ids)) return repeat;
  std::string sample_rows;
  LP_RETURN_IF_ERROR(AppendSampleCopyRows(spool_id, first_position, samples, kOp, sample_rows));
  std::vector<absl::string_view> sample_ids;
  sample_ids.reserve(samples.size());
  for (const labelport::v1::Sample& sample : samples) sample_ids.emplace_back(sample.id());
  std::string label_rows;
  std::vector<absl::string_view> label_views(label_ids.begin(), label_ids.end());
  for (const std::string& label_id : label_ids) {
    absl::StrAppend(&label_rows, spool_id, "\t");
    AppendCopyText(label_id, label_rows);
    label_rows += '\n';
  }

  std::optional<SpoolConflict> conflict;
  LP_RETURN_IF_ERROR(
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        conflict.reset();
        // The row lock also keeps a concurrent discard out until the end.
        LP_ASSIGN_OR_RETURN(
            PgResult touched,
            db.Exec("UPDATE runs SET spool_expires_at = clock_timestamp() + $2::float8 * "
                    "interval '1 microsecond' WHERE run_id = $1 AND spool_expires_at IS NOT NULL",
                    {PgParam::Text(spool_id), PgParam::Int(SpoolTtlMicros(ttl))},
                    absl::StrCat(kOp, ": extend spool")));
        if (touched.affected_rows() == 0) return run_records::RunSpoolNotFound(spool_id);
        LP_ASSIGN_OR_RETURN(std::optional<std::string> taken,
                            FirstTaken(db, "run_samples", "sample_id", spool_id, sample_ids, kOp));
        if (taken.has_value()) {
          conflict = SpoolConflict{SpoolConflict::Kind::kSampleId, *std::move(taken)};
          return absl::OkStatus();
        }
        LP_ASSIGN_OR_RETURN(
            taken, FirstTaken(db, "spooled_label_ids", "label_id", spool_id, label_views, kOp));
        if (taken.has_value()) {
          conflict = SpoolConflict{SpoolConflict::Kind::kLabelId, *std::move(taken)};
          return absl::OkStatus();
        }
        if (!sample_rows.empty())
          LP_RETURN_IF_ERROR(
              db.CopyIn(kCopySamples, sample_rows, absl::StrCat(kOp, ": insert samples")));
        if (!label_rows.empty())
          LP_RETURN_IF_ERROR(db.CopyIn("COPY spooled_label_ids (run_id, label_id) FROM STDIN",
                                       label_rows, absl::StrCat(kOp, ": insert label ids")));
        return absl::OkStatus();
      }));
  return conflict;
}

absl::StatusOr<CreateRunResult> PostgresRunStore::CommitRunSpool(const std::string& spool_id,
                                                                 const NewRun& run) {
  constexpr absl::string_view kOp = "CommitRunSpool";
  AnnotationRun record = run.record;
  ClearOwnedFields(record);
  LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(record, kOp));
  CreateRunResult result;
  auto body = [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(PgResult pending,
                        db.Exec("SELECT 1 FROM runs WHERE run_id = $1 AND spool_expires_at IS "
                                "NOT NULL FOR UPDATE",
                                {PgParam::Text(spool_id)}, absl::StrCat(kOp, ": find spool")));
    if (pending.rows() == 0) return run_records::RunSpoolNotFound(spool_id);
    LP_ASSIGN_OR_RETURN(std::optional<CreateRunResult> replay,
                        FindReplay(db, run.key.tenant, run.request_id, kOp));
    if (replay.has_value()) {
      result = *std::move(replay);
      return DropSpool(db, spool_id, kOp);
    }
    LP_ASSIGN_OR_RETURN(
        PgResult updated,
        db.Exec(absl::StrCat("UPDATE runs SET tenant = $2, dataset = $3, anno_key = $4, "
                             "backend = $5, state = $6, dataset_slug = $7, request_id = $8, "
                             "record = $9, create_time_ns = clock.now_ns, update_time_ns = "
                             "clock.now_ns, revision = 1, spool_owner = NULL, spool_expires_at = "
                             "NULL FROM (SELECT ",
                             kNowNanos,
                             " AS now_ns) AS clock WHERE run_id = $1 RETURNING create_time_ns"),
                LiveRunParams(spool_id, run, record, record_blob),
                absl::StrCat(kOp, ": make the run live")));
    LP_RETURN_IF_ERROR(RecordRequestId(db, run.key.tenant, run.request_id, spool_id, kOp));
    LP_RETURN_IF_ERROR(db.Exec("DELETE FROM spooled_label_ids WHERE run_id = $1",
                               {PgParam::Text(spool_id)}, absl::StrCat(kOp, ": drop label ids"))
                           .status());
    result = run_records::CreatedRun(spool_id, run.key, record, updated.Int(0, 0));
    return absl::OkStatus();
  };
  bool key_clash = false;
  absl::Status status = TransactStoringRun(*pool_, kOp, run, body, key_clash);
  if (key_clash) {
    LP_RETURN_IF_ERROR(DiscardRunSpool(spool_id));
    return RunKeyClash(run.key.anno_key);
  }
  LP_RETURN_IF_ERROR(status);
  return result;
}

absl::Status PostgresRunStore::DiscardRunSpool(const std::string& spool_id) {
  constexpr absl::string_view kOp = "DiscardRunSpool";
  return InTransaction(*pool_, kWrite, kOp,
                       [&](PostgresConnection& db) { return DropSpool(db, spool_id, kOp); });
}

absl::StatusOr<int64_t> PostgresRunStore::DiscardRunSpoolsOf(const std::string& owner) {
  constexpr absl::string_view kOp = "DiscardRunSpoolsOf";
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::StatusOr<int64_t> {
    LP_ASSIGN_OR_RETURN(PgResult deleted,
                        db.Exec("DELETE FROM runs WHERE spool_owner = $1 AND spool_expires_at IS "
                                "NOT NULL",
                                {PgParam::Text(owner)}, absl::StrCat(kOp, ": drop spools")));
    return deleted.affected_rows();
  });
}

absl::StatusOr<int64_t> PostgresRunStore::DiscardExpiredRunSpools() {
  constexpr absl::string_view kOp = "DiscardExpiredRunSpools";
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::StatusOr<int64_t> {
    // SKIP LOCKED: a spool whose append or commit is under way is not waited for.
    LP_ASSIGN_OR_RETURN(
        PgResult deleted,
        db.Exec("DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs WHERE "
                "spool_expires_at IS NOT NULL AND spool_expires_at < clock_timestamp() FOR "
                "UPDATE SKIP LOCKED)",
                {}, absl::StrCat(kOp, ": drop spools")));
    return deleted.affected_rows();
  });
}

absl::StatusOr<AnnotationRun> PostgresRunStore::GetRun(const RunKey& key) {
  constexpr absl::string_view kOp = "GetRun";
  return InTransaction(
      *pool_, kRead, kOp, [&](PostgresConnection& db) -> absl::StatusOr<AnnotationRun> {
        LP_ASSIGN_OR_RETURN(
            PgResult rows,
            db.Exec(
                absl::StrCat(kSelectRun, "WHERE tenant = $1 AND dataset = $2 AND anno_key = $3"),
                {PgParam::Text(key.tenant), PgParam::Text(key.dataset),
                 PgParam::Text(key.anno_key)},
                absl::StrCat(kOp, ": read run")));
        if (rows.rows() == 0) return RunNotFound(key.anno_key);
        return ReadRun(rows, 0, kOp);
      });
}

absl::StatusOr<ListRunsPage> PostgresRunStore::ListRuns(const ListRunsQuery& query) {
  constexpr absl::string_view kOp = "ListRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(query.page_size, kOp));
  ListRunsPage page;
  LP_RETURN_IF_ERROR(InTransaction(*pool_, kRead, kOp, [&](PostgresConnection& db) -> absl::Status {
    // One extra row tells whether another page exists.
    LP_ASSIGN_OR_RETURN(PgResult rows,
                        db.Exec(absl::StrCat(kSelectRun,
                                             "WHERE tenant = $1 AND dataset = $2 AND anno_key > $3 "
                                             "AND ($4::text = '' OR backend = $4) "
                                             "AND ($5::integer = 0 OR state = $5) "
                                             "AND ($6::text = '' OR dataset_slug = $6) "
                                             "ORDER BY anno_key LIMIT $7"),
                                {PgParam::Text(query.tenant), PgParam::Text(query.dataset),
                                 PgParam::Text(query.after_anno_key), PgParam::Text(query.backend),
                                 PgParam::Int(query.state), PgParam::Text(query.dataset_slug),
                                 PgParam::Int(int64_t{query.page_size} + 1)},
                                absl::StrCat(kOp, ": select runs")));
    for (int i = 0; i < rows.rows(); ++i) {
      if (static_cast<int>(page.runs.size()) == query.page_size) {
        page.next_after_anno_key = page.runs.back().anno_key();
        break;
      }
      LP_ASSIGN_OR_RETURN(AnnotationRun run, ReadRun(rows, i, kOp));
      page.runs.push_back(std::move(run));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<AnnotationRun> PostgresRunStore::RenameRun(const RunKey& key,
                                                          const std::string& new_anno_key) {
  constexpr absl::string_view kOp = "RenameRun";
  AnnotationRun renamed;
  absl::Status status =
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id,
                            FindRunId(db, key, kOp, "FOR UPDATE"));
        if (!run_id.has_value()) return RunNotFound(key.anno_key);
        // Renaming onto itself is a clash too, as in FiftyOne.
        if (new_anno_key == key.anno_key) return RenameKeyClash(new_anno_key);
        LP_RETURN_IF_ERROR(
            db.Exec(absl::StrCat("UPDATE runs SET anno_key = $1, update_time_ns = "
                                 "GREATEST(update_time_ns, ",
                                 kNowNanos, "), revision = revision + 1 WHERE run_id = $2"),
                    {PgParam::Text(new_anno_key), PgParam::Text(*run_id)},
                    absl::StrCat(kOp, ": update run"))
                .status());
        LP_ASSIGN_OR_RETURN(renamed, LoadRunById(db, *run_id, kOp));
        return NotifyRunChanged(db, *run_id, kOp);
      });
  if (IsUniqueViolation(status, "runs_key_unique")) return RenameKeyClash(new_anno_key);
  LP_RETURN_IF_ERROR(status);
  return renamed;
}

absl::Status PostgresRunStore::DeleteRun(const RunKey& key) {
  constexpr absl::string_view kOp = "DeleteRun";
  // Samples, the request id and the job rows go with the run through
  // ON DELETE CASCADE.
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(
        PgResult deleted,
        db.Exec(
            "DELETE FROM runs WHERE tenant = $1 AND dataset = $2 AND anno_key = $3 "
            "RETURNING run_id",
            {PgParam::Text(key.tenant), PgParam::Text(key.dataset), PgParam::Text(key.anno_key)},
            absl::StrCat(kOp, ": delete run")));
    if (deleted.rows() == 0) return RunNotFound(key.anno_key);
    return NotifyRunChanged(db, deleted.Bytes(0, 0), kOp);
  });
}

absl::StatusOr<SampleIdPage> PostgresRunStore::ListRunSamples(const RunKey& key,
                                                              int64_t start_position,
                                                              int page_size) {
  constexpr absl::string_view kOp = "ListRunSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(page_size, kOp));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  SampleIdPage page;
  LP_RETURN_IF_ERROR(InTransaction(*pool_, kRead, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(std::optional<std::string> run_id, FindRunId(db, key, kOp));
    if (!run_id.has_value()) return RunNotFound(key.anno_key);
    LP_ASSIGN_OR_RETURN(PgResult rows,
                        db.Exec("SELECT position, sample_id FROM run_samples WHERE run_id = $1 AND "
                                "position >= $2 ORDER BY position LIMIT $3",
                                {PgParam::Text(*run_id), PgParam::Int(start_position),
                                 PgParam::Int(int64_t{page_size} + 1)},
                                absl::StrCat(kOp, ": select samples")));
    for (int i = 0; i < rows.rows(); ++i) {
      if (static_cast<int>(page.sample_ids.size()) == page_size) {
        page.next_start_position = rows.Int(i, 0);
        break;
      }
      page.sample_ids.push_back(rows.Bytes(i, 1));
    }
    return absl::OkStatus();
  }));
  return page;
}

absl::StatusOr<AnnotationRun> PostgresRunStore::GetRunByUid(const std::string& run_id) {
  constexpr absl::string_view kOp = "GetRunByUid";
  std::optional<AnnotationRun> run;
  LP_RETURN_IF_ERROR(InTransaction(*pool_, kRead, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(run, FindRunById(db, run_id, kOp));
    return absl::OkStatus();
  }));
  if (!run.has_value()) return RunUidNotFound(run_id);
  return *std::move(run);
}

absl::StatusOr<AnnotationRun> PostgresRunStore::UpdateRun(const std::string& run_id,
                                                          const RunMutator& mutate) {
  constexpr absl::string_view kOp = "UpdateRun";
  AnnotationRun updated;
  LP_RETURN_IF_ERROR(
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        // The row lock serialises concurrent updates of the run, across processes.
        LP_ASSIGN_OR_RETURN(PgResult rows,
                            db.Exec(absl::StrCat(kSelectRun, "WHERE run_id = $1 FOR NO KEY UPDATE"),
                                    {PgParam::Text(run_id)}, absl::StrCat(kOp, ": read run")));
        if (rows.rows() == 0) return RunUidNotFound(run_id);
        OwnedFields owned = ReadOwnedFields(rows, 0);
        LP_ASSIGN_OR_RETURN(AnnotationRun run, ReadRun(rows, 0, kOp));
        LP_RETURN_IF_ERROR(mutate(run));
        // Whatever the mutator did to them, the store-owned fields come from the
        // columns; clearing them also keeps them out of the blob.
        ClearOwnedFields(run);
        LP_ASSIGN_OR_RETURN(std::string record_blob, SerializeRecord(run, kOp));
        LP_ASSIGN_OR_RETURN(
            PgResult stored,
            db.Exec(
                absl::StrCat("UPDATE runs SET record = $1, backend = $2, state = $3, "
                             "dataset_slug = $4, revision = revision + 1, "
                             "update_time_ns = GREATEST(update_time_ns, ",
                             kNowNanos, ") WHERE run_id = $5 RETURNING revision, update_time_ns"),
                {PgParam::Bytes(record_blob), PgParam::Text(run.backend()),
                 PgParam::Int(run.state()), PgParam::Text(run.darwin().dataset_slug()),
                 PgParam::Text(run_id)},
                absl::StrCat(kOp, ": update run")));
        owned.revision = stored.Int(0, 0);
        owned.update_time_ns = stored.Int(0, 1);
        FillOwnedFields(owned, run);
        updated = std::move(run);
        return NotifyRunChanged(db, run_id, kOp);
      }));
  return updated;
}

absl::StatusOr<std::vector<labelport::v1::Sample>> PostgresRunStore::LoadSamples(
    const std::string& run_id, int64_t start_position, int max_count) {
  constexpr absl::string_view kOp = "LoadSamples";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  return LoadRunRecords<labelport::v1::Sample>(
      *pool_,
      "SELECT sample FROM run_samples WHERE run_id = $1 AND position >= $2 ORDER BY position "
      "LIMIT $3",
      {PgParam::Text(run_id), PgParam::Int(start_position), PgParam::Int(max_count)}, run_id, kOp);
}

absl::Status PostgresRunStore::StageSamples(
    const std::string& run_id, const std::string& stage_id,
    const std::vector<std::pair<int64_t, labelport::v1::Sample>>& samples) {
  constexpr absl::string_view kOp = "StageSamples";
  std::vector<std::vector<PgParam>> rows;
  rows.reserve(samples.size());
  for (const auto& [position, sample] : samples) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(sample, kOp));
    rows.push_back({PgParam::Text(run_id), PgParam::Text(stage_id), PgParam::Int(position),
                    PgParam::Bytes(blob)});
  }
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp, /*lock=*/true));
    return InsertRows(db, "INSERT INTO staged_samples (run_id, stage_id, position, sample)", rows,
                      "ON CONFLICT (run_id, stage_id, position) DO UPDATE SET sample = "
                      "excluded.sample",
                      absl::StrCat(kOp, ": upsert staged samples"));
  });
}

absl::Status PostgresRunStore::CommitStagedSamples(const std::string& run_id,
                                                   const std::string& stage_id) {
  constexpr absl::string_view kOp = "CommitStagedSamples";
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp, /*lock=*/true));
    LP_ASSIGN_OR_RETURN(
        PgResult rows,
        db.Exec("SELECT s.position, s.sample, r.sample_id FROM staged_samples s "
                "LEFT JOIN run_samples r ON r.run_id = s.run_id AND r.position = s.position "
                "WHERE s.run_id = $1 AND s.stage_id = $2 ORDER BY s.position",
                {PgParam::Text(run_id), PgParam::Text(stage_id)},
                absl::StrCat(kOp, ": select staged samples")));
    for (int i = 0; i < rows.rows(); ++i) {
      const int64_t position = rows.Int(i, 0);
      LP_ASSIGN_OR_RETURN(
          labelport::v1::Sample sample,
          ParseRecord<labelport::v1::Sample>(rows.View(i, 1), kOp,
                                             absl::StrCat("staged sample at position ", position)));
      if (rows.IsNull(i, 2) || sample.id() != rows.View(i, 2)) {
        return run_records::StagedSampleMismatch(kOp, run_id, sample.id(), position);
      }
    }
    LP_RETURN_IF_ERROR(
        db.Exec("UPDATE run_samples r SET sample = s.sample FROM staged_samples s "
                "WHERE s.run_id = $1 AND s.stage_id = $2 AND r.run_id = s.run_id AND "
                "r.position = s.position",
                {PgParam::Text(run_id), PgParam::Text(stage_id)},
                absl::StrCat(kOp, ": update samples"))
            .status());
    return db
        .Exec("DELETE FROM staged_samples WHERE run_id = $1 AND stage_id = $2",
              {PgParam::Text(run_id), PgParam::Text(stage_id)}, absl::StrCat(kOp, ": drop stage"))
        .status();
  });
}

absl::Status PostgresRunStore::DiscardStagedSamples(const std::string& run_id,
                                                    const std::string& stage_id) {
  constexpr absl::string_view kOp = "DiscardStagedSamples";
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    return db
        .Exec("DELETE FROM staged_samples WHERE run_id = $1 AND stage_id = $2",
              {PgParam::Text(run_id), PgParam::Text(stage_id)}, absl::StrCat(kOp, ": drop stage"))
        .status();
  });
}

absl::Status PostgresRunStore::SaveSampleProgress(const std::string& run_id,
                                                  const std::vector<SampleProgress>& progress) {
  constexpr absl::string_view kOp = "SaveSampleProgress";
  std::vector<std::vector<PgParam>> rows;
  rows.reserve(progress.size());
  for (const SampleProgress& record : progress) {
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(record, kOp));
    rows.push_back({PgParam::Text(run_id), PgParam::Int(record.position()), PgParam::Bytes(blob)});
  }
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp, /*lock=*/true));
    // Positions are 0..n-1, so the highest one (an index lookup) gives n.
    LP_ASSIGN_OR_RETURN(PgResult count,
                        db.Exec("SELECT COALESCE(MAX(position), -1) + 1 FROM run_samples "
                                "WHERE run_id = $1",
                                {PgParam::Text(run_id)}, absl::StrCat(kOp, ": count samples")));
    const int64_t sample_count = count.Int(0, 0);
    for (const SampleProgress& record : progress) {
      LP_RETURN_IF_ERROR(
          run_records::CheckProgressPosition(kOp, run_id, record.position(), sample_count));
    }
    // Within one statement a position may appear only once: the last wins,
    // as it would with one upsert per record.
    std::vector<std::vector<PgParam>> last_per_position;
    {
      absl::flat_hash_set<int64_t> seen;
      for (size_t i = rows.size(); i-- > 0;) {
        if (seen.insert(progress[i].position()).second) last_per_position.push_back(rows[i]);
      }
    }
    return InsertRows(db, "INSERT INTO sample_progress (run_id, position, record)",
                      last_per_position,
                      "ON CONFLICT (run_id, position) DO UPDATE SET record = excluded.record",
                      absl::StrCat(kOp, ": upsert progress"));
  });
}

absl::StatusOr<std::vector<SampleProgress>> PostgresRunStore::LoadSampleProgressRange(
    const std::string& run_id, int64_t start_position, int max_count) {
  constexpr absl::string_view kOp = "LoadSampleProgressRange";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  LP_RETURN_IF_ERROR(CheckStartPosition(start_position, kOp));
  return LoadRunRecords<SampleProgress>(*pool_,
                                        "SELECT record FROM sample_progress WHERE run_id = $1 AND "
                                        "position >= $2 AND position < $3 ORDER BY position",
                                        {PgParam::Text(run_id), PgParam::Int(start_position),
                                         PgParam::Int(start_position + max_count)},
                                        run_id, kOp);
}

absl::Status PostgresRunStore::SaveAnnotationLinks(const std::string& run_id,
                                                   const std::vector<AnnotationLink>& links) {
  constexpr absl::string_view kOp = "SaveAnnotationLinks";
  std::vector<std::vector<PgParam>> rows;
  rows.reserve(links.size());
  // Within one statement an annotation id may appear only once: the last
  // wins, as it would with one upsert per link.
  absl::flat_hash_set<std::string> seen;
  for (size_t i = links.size(); i-- > 0;) {
    const AnnotationLink& link = links[i];
    LP_RETURN_IF_ERROR(run_records::CheckAnnotationId(link, run_id, kOp));
    if (!seen.insert(link.annotation_id()).second) continue;
    LP_ASSIGN_OR_RETURN(std::string blob, SerializeRecord(link, kOp));
    rows.push_back({PgParam::Text(run_id), PgParam::Text(link.annotation_id()),
                    PgParam::Text(link.item_id()), PgParam::Bytes(blob)});
  }
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp, /*lock=*/true));
    return InsertRows(db, "INSERT INTO annotation_links (run_id, annotation_id, item_id, record)",
                      rows,
                      "ON CONFLICT (run_id, annotation_id) DO UPDATE SET record = "
                      "excluded.record, item_id = excluded.item_id",
                      absl::StrCat(kOp, ": upsert links"));
  });
}

absl::StatusOr<std::vector<AnnotationLink>> PostgresRunStore::LoadAnnotationLinksForItem(
    const std::string& run_id, const std::string& item_id) {
  return LoadRunRecords<AnnotationLink>(*pool_,
                                        "SELECT record FROM annotation_links WHERE run_id = $1 "
                                        "AND item_id = $2 ORDER BY annotation_id",
                                        {PgParam::Text(run_id), PgParam::Text(item_id)}, run_id,
                                        "LoadAnnotationLinksForItem");
}

absl::StatusOr<std::vector<AnnotationLink>> PostgresRunStore::LoadAnnotationLinks(
    const std::string& run_id) {
  return LoadRunRecords<AnnotationLink>(
      *pool_, "SELECT record FROM annotation_links WHERE run_id = $1 ORDER BY annotation_id",
      {PgParam::Text(run_id)}, run_id, "LoadAnnotationLinks");
}

absl::Status PostgresRunStore::SaveBackendState(const std::string& run_id,
                                                const google::protobuf::Any& state) {
  constexpr absl::string_view kOp = "SaveBackendState";
  LP_RETURN_IF_ERROR(CheckBackendState(state, run_id, kOp));
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp, /*lock=*/true));
    return db
        .Exec(
            "INSERT INTO backend_state (run_id, type_url, record) VALUES ($1, $2, $3) "
            "ON CONFLICT (run_id) DO UPDATE SET type_url = excluded.type_url, "
            "record = excluded.record",
            {PgParam::Text(run_id), PgParam::Text(state.type_url()), PgParam::Bytes(state.value())},
            absl::StrCat(kOp, ": upsert state"))
        .status();
  });
}

absl::StatusOr<google::protobuf::Any> PostgresRunStore::LoadBackendState(
    const std::string& run_id) {
  constexpr absl::string_view kOp = "LoadBackendState";
  return InTransaction(
      *pool_, kRead, kOp, [&](PostgresConnection& db) -> absl::StatusOr<google::protobuf::Any> {
        LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
        LP_ASSIGN_OR_RETURN(PgResult rows,
                            db.Exec("SELECT type_url, record FROM backend_state WHERE run_id = $1",
                                    {PgParam::Text(run_id)}, absl::StrCat(kOp, ": select state")));
        google::protobuf::Any state;
        if (rows.rows() > 0) {
          state.set_type_url(rows.Bytes(0, 0));
          state.set_value(rows.Bytes(0, 1));
        }
        return state;
      });
}

absl::StatusOr<bool> PostgresRunStore::AcquireLease(const std::string& run_id,
                                                    const std::string& owner, absl::Duration ttl) {
  constexpr absl::string_view kOp = "AcquireLease";
  LP_RETURN_IF_ERROR(CheckLeaseRequest(owner, ttl, kOp));
  const int64_t ttl_micros = TtlMicros(ttl);
  bool taken = false;
  LP_RETURN_IF_ERROR(
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        // One conditional UPDATE: a concurrent taker waits for this row lock,
        // then re-checks the condition against the committed row and finds the
        // lease held.
        LP_ASSIGN_OR_RETURN(
            PgResult updated,
            db.Exec("UPDATE runs SET lease_owner = $2, lease_expires_at = clock_timestamp() + "
                    "$3::float8 * interval '1 microsecond' WHERE run_id = $1 AND (lease_owner IS "
                    "NULL OR "
                    "lease_owner = $2 OR lease_expires_at < clock_timestamp())",
                    {PgParam::Text(run_id), PgParam::Text(owner), PgParam::Int(ttl_micros)},
                    absl::StrCat(kOp, ": take lease")));
        taken = updated.affected_rows() > 0;
        if (!taken) LP_RETURN_IF_ERROR(CheckRunExists(db, run_id, kOp));
        return absl::OkStatus();
      }));
  return taken;
}

absl::Status PostgresRunStore::ReleaseLease(const std::string& run_id, const std::string& owner) {
  constexpr absl::string_view kOp = "ReleaseLease";
  return InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
    LP_ASSIGN_OR_RETURN(
        PgResult updated,
        db.Exec("UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL "
                "WHERE run_id = $1 AND lease_owner = $2",
                {PgParam::Text(run_id), PgParam::Text(owner)}, absl::StrCat(kOp, ": free lease")));
    if (updated.affected_rows() == 0) return CheckRunExists(db, run_id, kOp);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ClaimableRun>> PostgresRunStore::ListClaimableRuns(
    int max_count, const std::string& owner) {
  constexpr absl::string_view kOp = "ListClaimableRuns";
  LP_RETURN_IF_ERROR(CheckPageSize(max_count, kOp, "max_count"));
  std::vector<ClaimableRun> runs;
  LP_RETURN_IF_ERROR(
      InTransaction(*pool_, kWrite, kOp, [&](PostgresConnection& db) -> absl::Status {
        LP_ASSIGN_OR_RETURN(
            PgResult rows,
            // Row locks cannot be taken in a query with window functions: the
            // claimable rows are locked (skipping those being claimed) first.
            db.Exec("WITH claimable AS MATERIALIZED (SELECT run_id, tenant, dataset, anno_key, "
                    "create_time_ns FROM runs WHERE state IN (1, 2) "
                    "AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp() OR "
                    "lease_owner = $2) FOR NO KEY UPDATE SKIP LOCKED) "
                    "SELECT run_id, tenant, dataset, anno_key FROM (SELECT *, ROW_NUMBER() OVER "
                    "(PARTITION BY tenant ORDER BY create_time_ns, run_id) AS tenant_rank "
                    "FROM claimable) ranked ORDER BY tenant_rank, create_time_ns, run_id LIMIT $1",
                    {PgParam::Int(max_count), PgParam::Text(owner)},
                    absl::StrCat(kOp, ": select runs")));
        runs.reserve(rows.rows());
        for (int i = 0; i < rows.rows(); ++i) {
          runs.push_back(
              ClaimableRun{.run_id = rows.Bytes(i, 0),
                           .key = RunKey{rows.Bytes(i, 1), rows.Bytes(i, 2), rows.Bytes(i, 3)}});
        }
        return absl::OkStatus();
      }));
  return runs;
}

}  // namespace labelport::store
