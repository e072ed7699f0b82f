#include "service/api/annotation_service_impl.h"

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "service/api/load_annotations_reactor.h"
#include "service/api/request_scoped_executor.h"
#include "service/api/rpc_telemetry_interceptor.h"
#include "service/api/status_conversion.h"
#include "service/common/errors.h"
#include "service/common/log.h"
#include "service/core/limits.h"

namespace labelport::api {
namespace {

namespace v1 = labelport::v1;

constexpr int kMaxDigestsPerFindMissing = 10'000;

// Finishes a unary call that failed authentication.
grpc::ServerUnaryReactor* Rejected(grpc::CallbackServerContext* context,
                                   const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Streaming calls that failed authentication: finished at once, nothing read
// or written.
template <typename Request>
class RejectedReadReactor final : public grpc::ServerReadReactor<Request> {
 public:
  explicit RejectedReadReactor(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

template <typename Response>
class RejectedWriteReactor final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RejectedWriteReactor(const absl::Status& status) { this->Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// Runs `use_case` (returning StatusOr<Response>) on the executor and finishes
// the unary call with its result.
// The call's status for `result`; its value, when there is one, is moved into
// `*response`.
template <typename Response>
grpc::Status Deliver(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

template <typename Response, typename UseCase>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context,
                                   boost::asio::thread_pool* executor, Response* response,
                                   UseCase use_case) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  boost::asio::post(*executor, [reactor, response, use_case = std::move(use_case),
                                request_id = RequestIdOf(*context)]() mutable {
    common::ScopedRequestId scope(request_id);
    reactor->Finish(Deliver(use_case(), response));
  });
  return reactor;
}

// Runs `use_case` on the calling gRPC thread and finishes the call with its
// result: for reads that never wait (RunStore::ReadsAreLocal), where the hop
// to the executor and back would cost more than the read itself.
template <typename Response, typename UseCase>
grpc::ServerUnaryReactor* RunInline(grpc::CallbackServerContext* context, Response* response,
                                    UseCase use_case) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string request_id = RequestIdOf(*context);
  common::ScopedRequestId scope(request_id);
  reactor->Finish(Deliver(use_case(), response));
  return reactor;
}

// Runs a read use case inline when the store's reads never wait, on the
// executor otherwise.
template <typename Response, typename UseCase>
grpc::ServerUnaryReactor* RunRead(grpc::CallbackServerContext* context, bool inline_reads,
                                  boost::asio::thread_pool* executor, Response* response,
                                  UseCase use_case) {
  if (inline_reads) return RunInline(context, response, std::move(use_case));
  return RunUnary(context, executor, response, std::move(use_case));
}

// Runs an awaitable use case on the io_context (on a strand of its own) and
// finishes the call with it. The caller's cancellation, and its deadline
// (gRPC cancels the call when it passes), reach the use case as a terminal
// Asio cancellation, which stops its V7 work at its next step; the call then
// ends DEADLINE_EXCEEDED (deadline passed) or CANCELLED.
template <typename Response>
class AsyncUnaryReactor final : public grpc::ServerUnaryReactor {
 public:
  AsyncUnaryReactor(grpc::CallbackServerContext* context, const boost::asio::any_io_executor& io,
                    Response* response, boost::asio::awaitable<absl::StatusOr<Response>> use_case)
      : cancellation_(std::make_shared<CallCancellation>(boost::asio::make_strand(io))) {
    const auto deadline = context->deadline();
    // Each step of the use case runs inside the call's request-id scope.
    boost::asio::co_spawn(
        RequestScopedExecutor<>(cancellation_->strand, RequestIdOf(*context)), std::move(use_case),
        boost::asio::bind_cancellation_slot(
            cancellation_->signal.slot(),
            [this, response, deadline, cancellation = cancellation_](
                const std::exception_ptr& error, absl::StatusOr<Response> result) {
              cancellation->done = true;  // on the strand
              if (cancellation->emitted && (error || !result.ok())) {
                result = std::chrono::system_clock::now() >= deadline
                             ? absl::DeadlineExceededError("the call's deadline passed")
                             : absl::CancelledError("the client cancelled the call");
              } else if (error) {
                result = absl::InternalError("the call stopped unexpectedly");
              }
              Finish(Deliver(std::move(result), response));
            }));
  }

  void OnCancel() override { CallCancellation::Cancel(cancellation_); }
  void OnDone() override { delete this; }

 private:
  const std::shared_ptr<CallCancellation> cancellation_;
};

template <typename Response>
grpc::ServerUnaryReactor* RunAsync(grpc::CallbackServerContext* context,
                                   boost::asio::any_io_executor io, Response* response,
                                   boost::asio::awaitable<absl::StatusOr<Response>> use_case) {
  return new AsyncUnaryReactor<Response>(context, std::move(io), response, std::move(use_case));
}

// CreateRun: reads the header, then the sample batches one at a time. Each
// batch is handed to the run's RunCreation on the executor (validated, then
// spooled to the store) and the next message is read only once that is done:
// at most one batch per call is held in memory, and flow control reaches the
// client. The run becomes visible when the stream ends and Finish succeeds.
// Every error, and a cancelled call, aborts the creation on the executor
// (nothing stays in the store) before the call is finished; so OnDone never
// finds work pending.
class CreateRunReactor final : public grpc::ServerReadReactor<v1::CreateRunRequest> {
 public:
  CreateRunReactor(grpc::CallbackServerContext* context, core::RunRegistry* registry,
                   boost::asio::thread_pool* executor, CreateRunLimits limits, std::string tenant,
                   std::string request_id, v1::CreateRunResponse* response)
      : context_(context),
        registry_(registry),
        executor_(executor),
        limits_(limits),
        tenant_(std::move(tenant)),
        request_id_(std::move(request_id)),
        response_(response) {
    StartRead(&message_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndOfStream();
      return;
    }
    absl::Status status = Accept();
    if (!status.ok()) {
      Fail(std::move(status));
      return;
    }
    if (batch_.empty()) {
      ReadNext();
      return;
    }
    boost::asio::post(*executor_, [this] {
      common::ScopedRequestId scope(request_id_);
      absl::Status added = creation_->AddBatch(std::move(batch_));
      batch_.clear();
      if (!added.ok()) {
        Finish(ToGrpcStatus(added));  // AddBatch aborted the creation
        return;
      }
      if (Cancelled()) {
        creation_->Abort();
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled CreateRun"));
        return;
      }
      ReadNext();
    });
  }

  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  bool Cancelled() const { return cancelled_ || context_->IsCancelled(); }

  void ReadNext() {
    message_.Clear();
    StartRead(&message_);
  }

  // Aborts the creation (if any) on the executor, then finishes with `status`.
  void Fail(absl::Status status) {
    if (creation_ == nullptr) {
      Finish(ToGrpcStatus(status));
      return;
    }
    boost::asio::post(*executor_, [this, status = std::move(status)] {
      common::ScopedRequestId scope(request_id_);
      creation_->Abort();
      Finish(ToGrpcStatus(status));
    });
  }

  // Checks the message against the stream's bounds; a sample batch is moved
  // to `batch_`.
  absl::Status Accept() {
    const auto size = static_cast<int64_t>(message_.ByteSizeLong());
    if (size > core::kMaxCreateRunMessageBytes)
      return common::InvalidArgument(
          message_.has_header() ? "header" : "samples", "MESSAGE_TOO_LARGE",
          absl::StrFormat("A CreateRun message may hold at most %d bytes (16 MiB); message %d "
                          "holds %d (send smaller sample batches)",
                          core::kMaxCreateRunMessageBytes, messages_, size));
    received_bytes_ += size;
    ++messages_;
    if (received_bytes_ > limits_.max_bytes)
      return common::InvalidArgument(
          "samples", "REQUEST_TOO_LARGE",
          absl::StrFormat("A CreateRun call may send at most %d bytes (--max_create_run_mb); "
                          "%d were sent",
                          limits_.max_bytes, received_bytes_));
    if (message_.has_header()) {
      if (creation_ != nullptr)
        return common::InvalidArgument("header", "HEADER_REPEATED",
                                       "CreateRun takes exactly one header, as the first message");
      creation_ = registry_->BeginCreateRun(tenant_, std::move(*message_.mutable_header()));
      return absl::OkStatus();
    }
    if (creation_ == nullptr)
      return common::InvalidArgument("header", "HEADER_REQUIRED",
                                     "The first CreateRun message must be the header");
    if (!message_.has_samples())
      return common::InvalidArgument("samples", "MESSAGE_EMPTY",
                                     "A CreateRun message must hold a header or samples");
    auto* batch = message_.mutable_samples()->mutable_samples();
    if (batch->size() > static_cast<int>(core::kMaxSamplesPerBatch))
      return common::InvalidArgument(
          "samples", "BATCH_TOO_LARGE",
          absl::StrFormat("A sample batch may hold at most %d samples; got %d",
                          core::kMaxSamplesPerBatch, batch->size()));
    samples_ += batch->size();
    if (samples_ > limits_.max_samples)
      return common::InvalidArgument(
          "samples", "TOO_MANY_SAMPLES",
          absl::StrFormat("A run may hold at most %d samples (--max_run_samples); this batch "
                          "brings it to %d",
                          limits_.max_samples, samples_));
    batch_.reserve(batch->size());
    for (auto& s : *batch) batch_.push_back(std::move(s));
    return absl::OkStatus();
  }

  // The client half-closed (all batches sent), or the call broke or was
  // cancelled: only in the first case does the run become visible.
  void EndOfStream() {
    if (creation_ == nullptr) {
      Finish(ToGrpcStatus(common::InvalidArgument("header", "HEADER_REQUIRED",
                                                  "CreateRun ended before its header was sent")));
      return;
    }
    boost::asio::post(*executor_, [this] {
      common::ScopedRequestId scope(request_id_);
      if (Cancelled()) {
        creation_->Abort();
        Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled CreateRun"));
        return;
      }
      Finish(Deliver(creation_->Finish(), response_));
    });
  }

  grpc::CallbackServerContext* const context_;
  core::RunRegistry* registry_;
  boost::asio::thread_pool* executor_;
  const CreateRunLimits limits_;
  std::string tenant_;
  std::string request_id_;
  v1::CreateRunResponse* response_;
  v1::CreateRunRequest message_;
  int64_t messages_ = 0;
  int64_t received_bytes_ = 0;
  int64_t samples_ = 0;
  std::unique_ptr<core::RunCreation> creation_;
  std::vector<v1::Sample> batch_;
  std::atomic<bool> cancelled_{false};
};

// UploadMedia: a header, then chunks written to the content store one at a
// time on the executor; the next message is read only once the previous
// chunk is written, so at most one chunk per call is held in memory and flow
// control reaches the client. The writer removes its temporary file when
// the call ends without a successful commit.
class UploadMediaReactor final : public grpc::ServerReadReactor<v1::UploadMediaRequest> {
 public:
  UploadMediaReactor(store::TenantContentStores* content_stores, std::string tenant,
                     boost::asio::thread_pool* executor, v1::UploadMediaResponse* response)
      : content_stores_(content_stores),
        tenant_(std::move(tenant)),
        executor_(executor),
        response_(response) {
    StartRead(&message_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndOfStream();
      return;
    }
    if (message_.has_header()) {
      if (have_header_) {
        Fail(common::InvalidArgument("header", "HEADER_REPEATED",
                                     "UploadMedia takes exactly one header, as the first message"));
        return;
      }
      have_header_ = true;
      size_bytes_ = message_.header().size_bytes();
      boost::asio::post(*executor_, [this] {
        auto store = content_stores_->ForTenant(tenant_);
        if (!store.ok()) {
          Finish(ToGrpcStatus(store.status()));
          return;
        }
        auto writer = (*store)->BeginWrite(message_.header().content_digest(),
                                           message_.header().size_bytes());
        if (!writer.ok()) {
          Finish(ToGrpcStatus(writer.status()));
          return;
        }
        writer_ = *std::move(writer);
        ReadNext();
      });
      return;
    }
    absl::Status status = AcceptChunk();
    if (!status.ok()) {
      Fail(status);
      return;
    }
    boost::asio::post(*executor_, [this] {
      absl::Status appended = writer_->Append(message_.chunk());
      if (!appended.ok()) {
        Finish(ToGrpcStatus(appended));
        return;
      }
      ReadNext();
    });
  }

  void OnDone() override { delete this; }

 private:
  // Finishes with `status` once the temporary file (if any) is gone, so a
  // client that sees the error never finds leftovers.
  void Fail(absl::Status status) {
    if (writer_ == nullptr) {
      Finish(ToGrpcStatus(status));
      return;
    }
    boost::asio::post(*executor_, [this, status = std::move(status)] {
      writer_.reset();
      Finish(ToGrpcStatus(status));
    });
  }

  void ReadNext() {
    message_.Clear();
    StartRead(&message_);
  }

  absl::Status AcceptChunk() {
    if (!have_header_)
      return common::InvalidArgument("header", "HEADER_REQUIRED",
                                     "The first UploadMedia message must be the header");
    if (!message_.has_chunk())
      return common::InvalidArgument("chunk", "MESSAGE_EMPTY",
                                     "An UploadMedia message must hold a header or a chunk");
    const auto size = static_cast<int64_t>(message_.chunk().size());
    if (size > core::kMaxMediaChunkBytes)
      return common::InvalidArgument(
          "chunk", "CHUNK_TOO_LARGE",
          absl::StrFormat("An UploadMedia chunk may hold at most %d bytes (1 MiB); got %d",
                          core::kMaxMediaChunkBytes, size));
    if (++chunks_ > core::kMaxMediaChunksPerUpload)
      return common::InvalidArgument(
          "chunk", "TOO_MANY_CHUNKS",
          absl::StrFormat("An UploadMedia call may send at most %d chunks; got %d",
                          core::kMaxMediaChunksPerUpload, chunks_));
    if (size > size_bytes_ - received_)
      return common::InvalidArgument(
          "header.size_bytes", "CONTENT_SIZE_EXCEEDED",
          absl::StrFormat("UploadMedia received more bytes than the announced "
                          "header.size_bytes %d: %d so far",
                          size_bytes_, received_ + size));
    received_ += size;
    return absl::OkStatus();
  }

  void EndOfStream() {
    if (!have_header_) {
      Finish(ToGrpcStatus(common::InvalidArgument("header", "HEADER_REQUIRED",
                                                  "UploadMedia ended before its header was sent")));
      return;
    }
    if (received_ != size_bytes_) {
      Fail(common::InvalidArgument(
          "header.size_bytes", "CONTENT_SIZE_MISMATCH",
          absl::StrFormat("UploadMedia ended after %d of the announced header.size_bytes %d bytes",
                          received_, size_bytes_)));
      return;
    }
    boost::asio::post(*executor_, [this] {
      auto stored = writer_->Commit();
      if (stored.ok()) {
        response_->set_content_digest(stored->content_digest);
        response_->set_size_bytes(stored->size_bytes);
        response_->set_already_present(stored->already_present);
      }
      Finish(ToGrpcStatus(stored.status()));
    });
  }

  store::TenantContentStores* content_stores_;
  std::string tenant_;
  boost::asio::thread_pool* executor_;
  v1::UploadMediaResponse* response_;
  v1::UploadMediaRequest message_;
  bool have_header_ = false;
  int64_t size_bytes_ = 0;
  int64_t received_ = 0;
  int64_t chunks_ = 0;
  std::unique_ptr<store::ContentWriter> writer_;
};

bool IsSettled(v1::RunState state) {
  return state == v1::RUN_STATE_ANNOTATING || state == v1::RUN_STATE_FAILED ||
         state == v1::RUN_STATE_CLEANED_UP;
}

// WatchRun: resolves the name to the run's uid (so renames do not end the
// watch), then follows the run through the RunWatchHub, which hands over
// the run's event (sequence = revision) after every change, one message
// shared by all watchers of the run. An event is written when its sequence
// is above the last one sent (`after_sequence` at first); events that
// arrive while a write is in flight are folded into the newest. The call
// ends OK after the event of a settled run (or at once when a resumed watch
// finds the run settled and nothing new), with the read's error (NOT_FOUND
// once the run is deleted), or CANCELLED when the client goes away.
//
// State lives under `mu_`. Finish is called once, never while the initial
// resolve is running or a write is in flight, so OnDone (which drops the
// watch, then deletes the reactor) never races them; and always after `mu_`
// is released, as OnDone may run on another thread as soon as Finish is
// called (Resolve, on the executor, is no gRPC reaction that OnDone waits
// for).
class WatchRunReactor final : public grpc::ServerWriteReactor<v1::WatchRunResponse> {
 public:
  WatchRunReactor(core::RunRegistry* registry, core::RunWatchHub* hub,
                  boost::asio::thread_pool* executor, std::string tenant,
                  v1::WatchRunRequest request)
      : registry_(registry),
        hub_(hub),
        tenant_(std::move(tenant)),
        request_(std::move(request)),
        last_sent_(request_.after_sequence()) {
    boost::asio::post(*executor, [this] { Resolve(); });
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      in_flight_.reset();
      if (!ok) cancelled_ = true;
      finish = Next();
    }
    if (finish.has_value()) Finish(*finish);
  }

  void OnCancel() override {
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
      finish = Next();
    }
    if (finish.has_value()) Finish(*finish);
  }

  void OnDone() override {
    watch_.reset();
    delete this;
  }

 private:
  void Resolve() {
    v1::GetRunRequest get;
    get.set_name(request_.name());
    absl::StatusOr<v1::GetRunResponse> run = registry_->GetRun(tenant_, get);
    if (run.ok()) {
      auto event = std::make_shared<v1::WatchRunResponse>();
      event->set_sequence(run->run().revision());
      *event->mutable_run() = std::move(*run->mutable_run());
      watch_ = hub_->Follow(
          event->run().uid(),
          [this](const absl::StatusOr<core::RunWatchHub::Event>& update) { OnEvent(update); });
      OnEvent(core::RunWatchHub::Event(std::move(event)));
    } else {
      OnEvent(run.status());
    }
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      resolving_ = false;
      finish = Next();
    }
    if (finish.has_value()) Finish(*finish);
  }

  void OnEvent(const absl::StatusOr<core::RunWatchHub::Event>& update) {
    std::optional<grpc::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      if (!update.ok()) {
        error_ = ToGrpcStatus(update.status());
      } else {
        const core::RunWatchHub::Event& event = *update;
        const int64_t newest = pending_ != nullptr ? pending_->sequence() : last_sent_;
        if (event->sequence() > newest) {
          pending_ = event;
        } else if (event->sequence() <= last_sent_ && IsSettled(event->run().state())) {
          settled_ = true;
        }
      }
      finish = Next();
    }
    if (finish.has_value()) Finish(*finish);
  }

  // Starts the next write when nothing is in flight, or returns the status
  // the call is to finish with (it is then marked finished: the caller calls
  // Finish once it has released `mu_`). gRPC never runs a reaction inline
  // from StartWrite, so calling it under `mu_` cannot deadlock.
  std::optional<grpc::Status> Next() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || resolving_ || writing_) return std::nullopt;
    if (cancelled_)
      return FinishWith(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped watching"));
    if (settled_) return FinishWith(grpc::Status::OK);
    if (pending_ != nullptr) {
      last_sent_ = pending_->sequence();
      settled_ = IsSettled(pending_->run().state());
      // The event is shared with the run's other watchers; it stays alive
      // (and unchanged) until this write is done.
      in_flight_ = std::move(pending_);
      pending_.reset();
      writing_ = true;
      StartWrite(in_flight_.get());
      return std::nullopt;
    }
    if (error_.has_value()) return FinishWith(*error_);
    return std::nullopt;
  }

  grpc::Status FinishWith(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    finished_ = true;
    return status;
  }

  core::RunRegistry* const registry_;
  core::RunWatchHub* const hub_;
  const std::string tenant_;
  const v1::WatchRunRequest request_;
  // Set by Resolve before `resolving_` is cleared; dropped in OnDone.
  std::unique_ptr<core::RunWatchHub::Watch> watch_;
  absl::Mutex mu_;
  bool resolving_ ABSL_GUARDED_BY(mu_) = true;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // The last record sent (or found unchanged) was settled: the watch is over.
  bool settled_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_sent_ ABSL_GUARDED_BY(mu_);
  // The newest event not yet sent, if any is newer than `last_sent_`.
  core::RunWatchHub::Event pending_ ABSL_GUARDED_BY(mu_);
  // The event being written.
  core::RunWatchHub::Event in_flight_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

AnnotationServiceImpl::AnnotationServiceImpl(
    core::RunRegistry* registry, store::TenantContentStores* content_stores,
    boost::asio::thread_pool* executor, boost::asio::any_io_executor io,
    core::RunOperations* operations, const Authenticator* authenticator,
    core::RunWatchHub* watch_hub, CreateRunLimits create_run_limits)
    : registry_(registry),
      content_stores_(content_stores),
      executor_(executor),
      io_(std::move(io)),
      operations_(operations),
      authenticator_(authenticator),
      watch_hub_(watch_hub),
      create_run_limits_(create_run_limits) {}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* AnnotationServiceImpl::AnswerFromRegistry(
    grpc::CallbackServerContext* context, const Request* request, Response* response,
    RegistryUseCase<Request, Response> use_case, bool on_caller_thread) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return Rejected(context, tenant.status());
  return RunRead(context, on_caller_thread, executor_, response,
                 [registry = registry_, use_case, tenant = *std::move(tenant), request] {
                   return (registry->*use_case)(tenant, *request);
                 });
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* AnnotationServiceImpl::AnswerFromOperations(
    grpc::CallbackServerContext* context, const Request* request, Response* response,
    OperationsUseCase<Request, Response> use_case) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return Rejected(context, tenant.status());
  return RunAsync(context, io_, response, (operations_->*use_case)(*std::move(tenant), *request));
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::FindMissingMedia(
    grpc::CallbackServerContext* context, const v1::FindMissingMediaRequest* request,
    v1::FindMissingMediaResponse* response) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return Rejected(context, tenant.status());
  return RunUnary(
      context, executor_, response,
      [this, tenant = *std::move(tenant),
       request]() -> absl::StatusOr<v1::FindMissingMediaResponse> {
        if (request->content_digests_size() > kMaxDigestsPerFindMissing)
          return common::InvalidArgument(
              "content_digests", "TOO_MANY_DIGESTS",
              absl::StrFormat("FindMissingMedia takes at most %d content digests; got %d",
                              kMaxDigestsPerFindMissing, request->content_digests_size()));
        auto store = content_stores_->ForTenant(tenant);
        if (!store.ok()) return store.status();
        const std::vector<std::string> digests(request->content_digests().begin(),
                                               request->content_digests().end());
        auto missing = (*store)->FindMissing(digests);
        if (!missing.ok()) return missing.status();
        v1::FindMissingMediaResponse result;
        for (auto& digest : *missing) result.add_missing_digests(std::move(digest));
        return result;
      });
}

grpc::ServerReadReactor<v1::UploadMediaRequest>* AnnotationServiceImpl::UploadMedia(
    grpc::CallbackServerContext* context, v1::UploadMediaResponse* response) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return new RejectedReadReactor<v1::UploadMediaRequest>(tenant.status());
  return new UploadMediaReactor(content_stores_, *std::move(tenant), executor_, response);
}

grpc::ServerReadReactor<v1::CreateRunRequest>* AnnotationServiceImpl::CreateRun(
    grpc::CallbackServerContext* context, v1::CreateRunResponse* response) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return new RejectedReadReactor<v1::CreateRunRequest>(tenant.status());
  return new CreateRunReactor(context, registry_, executor_, create_run_limits_, *std::move(tenant),
                              RequestIdOf(*context), response);
}

grpc::ServerWriteReactor<v1::WatchRunResponse>* AnnotationServiceImpl::WatchRun(
    grpc::CallbackServerContext* context, const v1::WatchRunRequest* request) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return new RejectedWriteReactor<v1::WatchRunResponse>(tenant.status());
  return new WatchRunReactor(registry_, watch_hub_, executor_, *std::move(tenant), *request);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::GetRun(grpc::CallbackServerContext* context,
                                                        const v1::GetRunRequest* request,
                                                        v1::GetRunResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::GetRun,
                            registry_->ReadsAreLocal());
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::ListRuns(grpc::CallbackServerContext* context,
                                                          const v1::ListRunsRequest* request,
                                                          v1::ListRunsResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::ListRuns,
                            registry_->ReadsAreLocal());
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::RenameRun(grpc::CallbackServerContext* context,
                                                           const v1::RenameRunRequest* request,
                                                           v1::RenameRunResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::RenameRun);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::DeleteRun(grpc::CallbackServerContext* context,
                                                           const v1::DeleteRunRequest* request,
                                                           v1::DeleteRunResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::DeleteRun);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::GetRunStatus(
    grpc::CallbackServerContext* context, const v1::GetRunStatusRequest* request,
    v1::GetRunStatusResponse* response) {
  return AnswerFromOperations(context, request, response, &core::RunOperations::GetRunStatus);
}

grpc::ServerWriteReactor<v1::LoadAnnotationsResponse>* AnnotationServiceImpl::LoadAnnotations(
    grpc::CallbackServerContext* context, const v1::LoadAnnotationsRequest* request) {
  auto tenant = authenticator_->TenantOf(*context);
  if (!tenant.ok()) return new RejectedWriteReactor<v1::LoadAnnotationsResponse>(tenant.status());
  return new LoadAnnotationsReactor(operations_, io_, *std::move(tenant), RequestIdOf(*context),
                                    *request);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::CleanupRun(grpc::CallbackServerContext* context,
                                                            const v1::CleanupRunRequest* request,
                                                            v1::CleanupRunResponse* response) {
  return AnswerFromOperations(context, request, response, &core::RunOperations::CleanupRun);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::ListRunSamples(
    grpc::CallbackServerContext* context, const v1::ListRunSamplesRequest* request,
    v1::ListRunSamplesResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::ListRunSamples);
}

grpc::ServerUnaryReactor* AnnotationServiceImpl::ResumeRun(grpc::CallbackServerContext* context,
                                                           const v1::ResumeRunRequest* request,
                                                           v1::ResumeRunResponse* response) {
  return AnswerFromRegistry(context, request, response, &core::RunRegistry::ResumeRun);
}

}  // namespace labelport::api
