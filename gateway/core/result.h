// Result<T>: a value or a Problem. C++20 has no std::expected; this is the small
// subset we need, kept deliberately boring.
#pragma once

#include <utility>
#include <variant>

#include "gateway/core/problem.h"

namespace xoev {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Problem problem) : v_(std::move(problem)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Problem& problem() const& { return std::get<1>(v_); }
  Problem&& problem() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Problem> v_;
};

// For operations that return nothing on success.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace xoev
