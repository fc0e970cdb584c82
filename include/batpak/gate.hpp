// Gates: caller-defined policies evaluated before a commit.
//
//   struct Order { std::string sku; int64_t quantity; int64_t stock; };
//   batpak::GateSet<Order> gates;
//   gates.add({"stock", [](const Order& o) -> std::optional<batpak::Denial> {
//     if (o.quantity <= o.stock) return std::nullopt;        // Allow.
//     return batpak::Denial{{}, "out_of_stock", "only " + std::to_string(o.stock) + " left", {}};
//   }});
//   auto verdict = gates.evaluate(order);
//   if (!verdict.allowed()) log(verdict.denial->gate + ": " + verdict.denial->message);
//
// evaluate() runs the gates in the order they were added and stops at the first denial;
// evaluate_all() runs every gate and reports each outcome. A gate that throws is turned into
// a denial with code "gate_defect" (the exception's message), in both: a broken policy denies,
// it never crashes the caller and never allows.
//
// Thread safety: add() is for setup, from one thread, before any evaluation. evaluate() and
// evaluate_all() do not modify the set: any number of threads may call them concurrently if
// the gates' functions may be called concurrently.
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "batpak/status.hpp"

namespace batpak {

inline constexpr const char* kGateDefectCode = "gate_defect";

// Why a gate refused. `gate` is filled with the gate's name when the gate left it empty.
struct Denial {
  std::string gate;
  std::string code;     // Stable, machine-readable (e.g. "out_of_stock").
  std::string message;  // For people.
  std::map<std::string, std::string> context;
  bool operator==(const Denial&) const = default;
};

template <class Ctx>
struct Gate {
  std::string name;  // Non-empty, unique within a GateSet.
  std::function<std::optional<Denial>(const Ctx&)> evaluate;  // nullopt: allow.
};

// One gate's outcome in a trace.
struct GateOutcome {
  enum class Verdict : uint8_t { kPermit, kDeny, kSkipped };
  std::string gate;
  Verdict verdict = Verdict::kSkipped;
  std::optional<Denial> denial;  // kDeny only.
  bool operator==(const GateOutcome&) const = default;
};

// The result of an evaluation: every gate's outcome in order, and the first denial.
struct GateVerdict {
  std::vector<GateOutcome> trace;
  std::optional<Denial> denial;  // The first denial; empty when every gate allowed.
  bool allowed() const { return !denial.has_value(); }
  // The names of the gates that allowed, in order.
  std::vector<std::string> passed() const {
    std::vector<std::string> out;
    for (const GateOutcome& o : trace) {
      if (o.verdict == GateOutcome::Verdict::kPermit) out.push_back(o.gate);
    }
    return out;
  }
};

template <class Ctx>
class GateSet {
 public:
  // Appends a gate. kInvalidArgument for an empty or duplicate name or a missing function.
  Status add(Gate<Ctx> gate) {
    if (gate.name.empty()) return make_error(ErrorCode::kInvalidArgument, "a gate needs a name");
    if (!gate.evaluate) return make_error(ErrorCode::kInvalidArgument, "gate " + gate.name + " has no function");
    for (const Gate<Ctx>& g : gates_) {
      if (g.name == gate.name) return make_error(ErrorCode::kInvalidArgument, "gate " + gate.name + " is already in the set");
    }
    gates_.push_back(std::move(gate));
    return {};
  }

  // Runs the gates in order until one denies; the gates after it are kSkipped.
  GateVerdict evaluate(const Ctx& ctx) const { return run(ctx, /*stop_at_denial=*/true); }
  // Runs every gate; the verdict's denial is the first one.
  GateVerdict evaluate_all(const Ctx& ctx) const { return run(ctx, /*stop_at_denial=*/false); }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Gate<Ctx>& g : gates_) out.push_back(g.name);
    return out;
  }
  size_t size() const { return gates_.size(); }

 private:
  // One gate's decision; a throwing gate is a gate_defect denial.
  static std::optional<Denial> decide(const Gate<Ctx>& gate, const Ctx& ctx) {
    std::optional<Denial> denial;
    try {
      denial = gate.evaluate(ctx);
    } catch (const std::exception& e) {
      denial = Denial{{}, kGateDefectCode, std::string("the gate threw: ") + e.what(), {}};
    } catch (...) {
      denial = Denial{{}, kGateDefectCode, "the gate threw an exception not derived from std::exception", {}};
    }
    if (denial && denial->gate.empty()) denial->gate = gate.name;
    return denial;
  }

  GateVerdict run(const Ctx& ctx, bool stop_at_denial) const {
    GateVerdict verdict;
    for (const Gate<Ctx>& gate : gates_) {
      if (stop_at_denial && verdict.denial) {
        verdict.trace.push_back({gate.name, GateOutcome::Verdict::kSkipped, std::nullopt});
        continue;
      }
      std::optional<Denial> denial = decide(gate, ctx);
      if (!denial) {
        verdict.trace.push_back({gate.name, GateOutcome::Verdict::kPermit, std::nullopt});
        continue;
      }
      if (!verdict.denial) verdict.denial = denial;
      verdict.trace.push_back({gate.name, GateOutcome::Verdict::kDeny, std::move(denial)});
    }
    return verdict;
  }

  std::vector<Gate<Ctx>> gates_;
};

}  // namespace batpak
