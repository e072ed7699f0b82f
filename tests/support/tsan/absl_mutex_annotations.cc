// TSan builds only (LP_SANITIZE=thread): tells ThreadSanitizer about
// absl::Mutex.
//
// Debian's Abseil is not built with TSan, so TSan does not see absl::Mutex's
// lock and unlock as synchronisation and reports every access guarded by one as
// a data race. This file defines the public entry points of absl::Mutex (and
// absl::CondVar's waits) in the executable, which the dynamic linker prefers to
// the library's: each calls the library's function (found with dlsym
// RTLD_NEXT) between TSan's mutex annotations (sanitizer/tsan_interface.h),
// as Abseil does itself when built with TSan. Calls inside the library are
// not annotated (its code is not instrumented anyway).
//
// The library's functions call each other through these definitions too (e.g.
// AwaitWithTimeout calls AwaitWithDeadline): only the outermost call on a
// thread is annotated.
//
// While a thread waits in Await/CondVar::Wait the mutex is released; absl
// evaluates the waiter's Condition on whichever thread holds the mutex then,
// so reads made inside those calls are ignored.

#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
}

namespace {

// The library's definition of `mangled` (the next one after this executable's).
template <typename Fn>
Fn Real(const char* mangled) {
  void* fn = dlsym(RTLD_NEXT, mangled);
  if (fn == nullptr) {
    std::fprintf(stderr, "tsan absl::Mutex annotations: %s not found\n", mangled);
    std::abort();
  }
  return reinterpret_cast<Fn>(fn);
}

// Marks the calls of one thread that are inside an annotated call.
thread_local int nesting = 0;
struct Outermost {
  Outermost() : outer(nesting++ == 0) {}
  ~Outermost() { --nesting; }
  Outermost(const Outermost&) = delete;
  Outermost& operator=(const Outermost&) = delete;
  const bool outer;
};

// The library's function as `real`; a nested call goes straight to it.
#define LP_REAL(type, mangled, ...)             \
  static const auto real = Real<type>(mangled); \
  const Outermost outermost;                    \
  if (!outermost.outer) return real(__VA_ARGS__)

void Released(void* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __tsan_mutex_post_unlock(mu, 0);
}

void Acquired(void* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  __tsan_mutex_post_lock(mu, 0, 0);
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using MutexFn = void (*)(Mutex*);
using MutexTryFn = bool (*)(Mutex*);
using MutexCondFn = void (*)(Mutex*, const Condition&);
using MutexCondTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using MutexCondDeadlineFn = bool (*)(Mutex*, const Condition&, Time);

void Mutex::Lock() {
  LP_REAL(MutexFn, "_ZN4absl7debian35Mutex4LockEv", this);
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  LP_REAL(MutexFn, "_ZN4absl7debian35Mutex6UnlockEv", this);
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

bool Mutex::TryLock() {
  LP_REAL(MutexTryFn, "_ZN4absl7debian35Mutex7TryLockEv", this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_try_lock);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_try_lock | (locked ? 0 : __tsan_mutex_try_lock_failed),
                         0);
  return locked;
}

void Mutex::ReaderLock() {
  LP_REAL(MutexFn, "_ZN4absl7debian35Mutex10ReaderLockEv", this);
  __tsan_mutex_pre_lock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_lock(this, __tsan_mutex_read_lock, 0);
}

void Mutex::ReaderUnlock() {
  LP_REAL(MutexFn, "_ZN4absl7debian35Mutex12ReaderUnlockEv", this);
  __tsan_mutex_pre_unlock(this, __tsan_mutex_read_lock);
  real(this);
  __tsan_mutex_post_unlock(this, __tsan_mutex_read_lock);
}

bool Mutex::ReaderTryLock() {
  LP_REAL(MutexTryFn, "_ZN4absl7debian35Mutex13ReaderTryLockEv", this);
  const unsigned flags = __tsan_mutex_read_lock | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(this, flags);
  const bool locked = real(this);
  __tsan_mutex_post_lock(this, flags | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  LP_REAL(MutexCondFn, "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE", this, cond);
  __tsan_mutex_pre_lock(this, 0);
  real(this, cond);
  __tsan_mutex_post_lock(this, 0, 0);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  LP_REAL(MutexCondTimeoutFn,
          "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE", this, cond,
          timeout);
  __tsan_mutex_pre_lock(this, 0);
  const bool met = real(this, cond, timeout);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  LP_REAL(MutexCondDeadlineFn,
          "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE", this, cond,
          deadline);
  __tsan_mutex_pre_lock(this, 0);
  const bool met = real(this, cond, deadline);
  __tsan_mutex_post_lock(this, 0, 0);
  return met;
}

void Mutex::Await(const Condition& cond) {
  LP_REAL(MutexCondFn, "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE", this, cond);
  Released(this);
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  real(this, cond);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  Acquired(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  LP_REAL(MutexCondTimeoutFn,
          "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE", this, cond,
          timeout);
  Released(this);
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  const bool met = real(this, cond, timeout);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  Acquired(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  LP_REAL(MutexCondDeadlineFn,
          "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE", this, cond,
          deadline);
  Released(this);
  AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
  const bool met = real(this, cond, deadline);
  AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
  Acquired(this);
  return met;
}

using CondVarWaitFn = void (*)(CondVar*, Mutex*);
using CondVarTimeoutFn = bool (*)(CondVar*, Mutex*, Duration);
using CondVarDeadlineFn = bool (*)(CondVar*, Mutex*, Time);

void CondVar::Wait(Mutex* mu) {
  LP_REAL(CondVarWaitFn, "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE", this, mu);
  Released(mu);
  real(this, mu);
  Acquired(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  LP_REAL(CondVarTimeoutFn, "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE",
          this, mu, timeout);
  Released(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquired(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  LP_REAL(CondVarDeadlineFn, "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE",
          this, mu, deadline);
  Released(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquired(mu);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl
