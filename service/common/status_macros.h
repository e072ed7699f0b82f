// Status propagation macros (this Abseil version ships none).
#ifndef LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_
#define LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LP_CONCAT_INNER_(a, b) a##b
#define LP_CONCAT_(a, b) LP_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define LP_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::absl::Status lp_status_ = (expr);      \
    if (!lp_status_.ok()) return lp_status_; \
  } while (false)

// `lhs` is a declaration or an lvalue and `tmp` a name: neither may be put in
// parentheses, so bugprone-macro-parentheses is off for these macros.
// NOLINTBEGIN(bugprone-macro-parentheses)

// `LP_ASSIGN_OR_RETURN(auto x, StatusOrExpr())`: unwraps or returns the error.
#define LP_ASSIGN_OR_RETURN(lhs, expr) \
  LP_ASSIGN_OR_RETURN_IMPL_(LP_CONCAT_(lp_statusor_, __LINE__), lhs, expr)
#define LP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

// The same for coroutine bodies, where `return` is not allowed.
#define LP_CO_RETURN_IF_ERROR(expr)                   \
  do {                                                \
    ::absl::Status lp_co_status_ = (expr);            \
    if (!lp_co_status_.ok()) co_return lp_co_status_; \
  } while (false)

#define LP_CO_ASSIGN_OR_RETURN(lhs, expr) \
  LP_CO_ASSIGN_OR_RETURN_IMPL_(LP_CONCAT_(lp_co_statusor_, __LINE__), lhs, expr)
#define LP_CO_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) co_return tmp.status();             \
  lhs = std::move(tmp).value()

// NOLINTEND(bugprone-macro-parentheses)

#endif  // LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_
