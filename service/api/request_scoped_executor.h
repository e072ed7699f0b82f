// RequestScopedExecutor: an Asio executor adapter that runs every function
// it is given inside a common::ScopedRequestId, so that the log lines of a
// coroutine spawned on it carry the RPC's request id on whichever thread
// each of its steps runs (a thread-local scope alone would not follow a
// coroutine across co_await). Everything else (context, blocking,
// outstanding work, ...) is the wrapped executor's.
//
// Use: co_spawn(RequestScopedExecutor(io, id), coroutine, token). Copies
// share the id; equality compares both the wrapped executor and the id.
#ifndef LABELPORT_SERVICE_API_REQUEST_SCOPED_EXECUTOR_H_
#define LABELPORT_SERVICE_API_REQUEST_SCOPED_EXECUTOR_H_

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "service/common/log.h"

namespace labelport::api {

template <typename Inner = boost::asio::any_io_executor>
class RequestScopedExecutor {
 public:
  RequestScopedExecutor(Inner inner, std::string request_id)
      : inner_(std::move(inner)),
        request_id_(std::make_shared<const std::string>(std::move(request_id))) {}
  RequestScopedExecutor(Inner inner, std::shared_ptr<const std::string> request_id)
      : inner_(std::move(inner)), request_id_(std::move(request_id)) {}

  template <typename Function>
  void execute(Function function) const {
    inner_.execute([id = request_id_, function = std::move(function)]() mutable {
      common::ScopedRequestId scope(*id);
      std::move(function)();
    });
  }

  template <typename Property>
  auto query(const Property& property) const
      -> decltype(boost::asio::query(std::declval<const Inner&>(), property)) {
    return boost::asio::query(inner_, property);
  }

  template <typename Property>
  auto require(const Property& property) const -> RequestScopedExecutor<
      std::decay_t<decltype(boost::asio::require(std::declval<const Inner&>(), property))>> {
    return {boost::asio::require(inner_, property), request_id_};
  }

  template <typename Property>
  auto prefer(const Property& property) const -> RequestScopedExecutor<
      std::decay_t<decltype(boost::asio::prefer(std::declval<const Inner&>(), property))>> {
    return {boost::asio::prefer(inner_, property), request_id_};
  }

  friend bool operator==(const RequestScopedExecutor& a, const RequestScopedExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.request_id_ == b.request_id_;
  }
  friend bool operator!=(const RequestScopedExecutor& a, const RequestScopedExecutor& b) noexcept {
    return !(a == b);
  }

 private:
  template <typename>
  friend class RequestScopedExecutor;

  Inner inner_;
  std::shared_ptr<const std::string> request_id_;
};

}  // namespace labelport::api

#endif  // LABELPORT_SERVICE_API_REQUEST_SCOPED_EXECUTOR_H_
