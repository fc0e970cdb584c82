// Pipelines: proposal -> gates -> commit, with every outcome on the record.
//
//   batpak::Pipeline<Order> pipeline(std::move(gates));
//   auto outcome = pipeline.submit(store, order, proposal);   // proposal: a BatchItem
//   if (!outcome) return outcome.error();                     // The store failed.
//   if (outcome->committed) use(*outcome->committed);         // Allowed and appended.
//   else report(outcome->verdict.denial->message, *outcome->denial);  // Refused, recorded.
//
// submit() evaluates the gates (GateSet::evaluate). Allowed: the proposal is committed, by
// Store::append or by the caller's commit function. Denied: nothing is committed and the
// denial is appended as a DENIAL event (Store::append_denial) on the proposal's entity.
// bypass() commits without gates, with a BYPASS audit event in the same atomic batch
// (Store::append_bypassing_gates); it requires a reason and a justification.
//
// Thread safety: as the GateSet: submit() and bypass() may run concurrently once the
// pipeline is built, if the gates' functions allow it.
#pragma once

#include <functional>
#include <optional>

#include "batpak/gate.hpp"
#include "batpak/store.hpp"

namespace batpak {

// What happened to one proposal.
struct PipelineOutcome {
  GateVerdict verdict;              // Empty trace for a bypass.
  std::optional<Receipt> committed;  // The proposal's receipt when it was committed.
  std::optional<Receipt> denial;     // The DENIAL event's receipt when it was refused.
  std::optional<Receipt> bypass_audit;  // The BYPASS event's receipt for a bypass.
};

template <class Ctx>
class Pipeline {
 public:
  // Commits an allowed proposal; returns its receipt.
  using Commit = std::function<Result<Receipt>(Store& store, const BatchItem& proposal)>;

  explicit Pipeline(GateSet<Ctx> gates) : gates_(std::move(gates)) {}

  Result<PipelineOutcome> submit(Store& store, const Ctx& ctx, const BatchItem& proposal) const {
    return submit(store, ctx, proposal, [](Store& s, const BatchItem& p) {
      return s.append(p.coordinate, p.kind, p.payload, p.options);
    });
  }

  Result<PipelineOutcome> submit(Store& store, const Ctx& ctx, const BatchItem& proposal, const Commit& commit) const {
    PipelineOutcome outcome{gates_.evaluate(ctx), std::nullopt, std::nullopt, std::nullopt};
    if (outcome.verdict.allowed()) {
      auto receipt = commit(store, proposal);
      if (!receipt) return tl::unexpected(receipt.error());
      outcome.committed = std::move(*receipt);
      return outcome;
    }
    auto denial = store.append_denial(proposal.coordinate, outcome.verdict, proposal.kind, proposal.payload);
    if (!denial) return tl::unexpected(denial.error());
    outcome.denial = std::move(*denial);
    return outcome;
  }

  Result<PipelineOutcome> bypass(Store& store, const BatchItem& proposal, const BypassAudit& audit) const {
    auto receipts = store.append_bypassing_gates(proposal, audit);
    if (!receipts) return tl::unexpected(receipts.error());
    return PipelineOutcome{{}, std::move((*receipts)[0]), std::nullopt, std::move((*receipts)[1])};
  }

  const GateSet<Ctx>& gates() const { return gates_; }

 private:
  GateSet<Ctx> gates_;
};

}  // namespace batpak
