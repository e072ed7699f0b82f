// Status propagation macros (this Abseil version ships none).
#ifndef LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_
#define LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LP_CONCAT_INNER_(a, b) a##b
#define LP_CONCAT_(a, b) LP_CONCAT_INNER_(a, b)

// Each macro comes twice: for functions (`return`) and for coroutine
// bodies, where `return` is not allowed (`co_return`). The *_WITH_ forms
// take that keyword as `ret` and the name of their variable as `var` or
// `tmp`. `ret`, `lhs` (a declaration or an lvalue) and the names may not be
// put in parentheses, so bugprone-macro-parentheses is off for these macros.
// NOLINTBEGIN(bugprone-macro-parentheses)

// Returns the status from the enclosing function when `expr` is not OK.
#define LP_RETURN_IF_ERROR(expr) LP_RETURN_IF_ERROR_WITH_(return, lp_status_, expr)
#define LP_CO_RETURN_IF_ERROR(expr) LP_RETURN_IF_ERROR_WITH_(co_return, lp_co_status_, expr)
#define LP_RETURN_IF_ERROR_WITH_(ret, var, expr) \
  do {                                           \
    ::absl::Status var = (expr);                 \
    if (!var.ok()) ret var;                      \
  } while (false)

// `LP_ASSIGN_OR_RETURN(auto x, StatusOrExpr())`: unwraps or returns the error.
#define LP_ASSIGN_OR_RETURN(lhs, expr) \
  LP_ASSIGN_OR_RETURN_WITH_(return, LP_CONCAT_(lp_statusor_, __LINE__), lhs, expr)
#define LP_CO_ASSIGN_OR_RETURN(lhs, expr) \
  LP_ASSIGN_OR_RETURN_WITH_(co_return, LP_CONCAT_(lp_co_statusor_, __LINE__), lhs, expr)
#define LP_ASSIGN_OR_RETURN_WITH_(ret, tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) ret tmp.status();                     \
  lhs = std::move(tmp).value()

// NOLINTEND(bugprone-macro-parentheses)

#endif  // LABELPORT_SERVICE_COMMON_STATUS_MACROS_H_
