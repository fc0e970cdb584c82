#include "index/index.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <mutex>
#include <queue>

namespace batpak::index {

uint32_t Index::intern_scope(std::string_view scope) {
  auto it = scope_ids_.find(scope);
  if (it != scope_ids_.end()) return it->second;
  const auto id = static_cast<uint32_t>(scopes_.size());
  scopes_.emplace_back(scope);
  scope_ids_.emplace(scopes_.back(), id);
  return id;
}

std::optional<uint32_t> Index::entity_id(std::string_view entity) const {
  auto it = entity_lookup_.find(entity);
  if (it == entity_lookup_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> Index::add_entity(std::string_view entity) {
  const auto id = static_cast<uint32_t>(entities_.size());
  auto [it, added] = entity_ids_.emplace(std::string(entity), id);
  if (!added) return std::nullopt;
  entity_lookup_.emplace(it->first, id);
  entities_.push_back(EntityState{std::string(entity), {}, {}, {}, {}});
  return id;
}

void Index::add(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash) {
  adder().add(entity, scope, entry, event_hash);
}

Index::Adder::~Adder() { index_.index_ids_locked(); }

void Index::Adder::add(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash) {
  index_.add_row(entity, scope, entry, event_hash);
}

void Index::Adder::add_hidden() { index_.add_hidden_locked(); }

void Index::add_deferring_id(std::string_view entity, std::string_view scope, const Entry& entry,
                             const Hash32& event_hash) {
  std::unique_lock lock(mu_);
  add_row(entity, scope, entry, event_hash);
}

void Index::add_row(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash) {
  std::optional<uint32_t> id = entity_id(entity);
  if (!id) id = add_entity(entity);
  EntityState& state = entities_[*id];
  assert(entry.clock == state.generation() + 1);
  const uint64_t global_sequence = end_sequence();
  rows_.push_back(Row{entry, *id, intern_scope(scope)});
  state.sequences.push_back(global_sequence);
  state.kinds.push_back(entry.kind);
  state.head_hash = event_hash;
}

bool Index::index_ids() {
  std::unique_lock lock(mu_);
  return index_ids_locked();
}

bool Index::index_ids_locked() {
  // Each insert is a cache miss in a table of megabytes; prefetching the home slot of the
  // id kPrefetchAhead rows on lets those misses overlap (a hidden row's zero id is a
  // harmless hint).
  constexpr uint64_t kPrefetchAhead = 16;
  const uint64_t rows = rows_.size();
  if (rows - rows_with_ids_ > 1) by_id_.reserve(by_id_.size() + (rows - rows_with_ids_));
  bool all_new = true;
  for (uint64_t i = rows_with_ids_; i < rows; ++i) {
    if (i + kPrefetchAhead < rows) by_id_.prefetch(rows_[i + kPrefetchAhead].entry.event_id);
    const Row& added = rows_[i];
    if (added.entity != kHiddenEntity && !by_id_.insert(added.entry.event_id, first_sequence_ + i)) all_new = false;
  }
  rows_with_ids_ = rows;
  published_rows_.store(first_sequence_ - 1 + rows, std::memory_order_release);
  return all_new;
}

void Index::add_hidden() { adder().add_hidden(); }

void Index::add_hidden_locked() {
  rows_.push_back(Row{Entry{}, kHiddenEntity, 0});
  ++hidden_count_;
  const uint64_t global_sequence = end_sequence() - 1;
  if (!hidden_ranges_.empty() && hidden_ranges_.back().end == global_sequence) {
    hidden_ranges_.back().end = global_sequence + 1;
  } else {
    hidden_ranges_.push_back(SequenceRange{global_sequence, global_sequence + 1});
  }
  if (rows_with_ids_ + 1 == rows_.size()) rows_with_ids_ = rows_.size();  // It has no id.
}

uint64_t Index::hidden_count() const {
  std::shared_lock lock(mu_);
  return hidden_count_;
}

bool Index::visible_row(uint64_t global_sequence) const {
  return global_sequence >= first_sequence_ && global_sequence < end_sequence() && row(global_sequence).entity != kHiddenEntity;
}

uint64_t Index::visible_at_or_after(uint64_t global_sequence) const {
  // hidden_ranges_ is ascending and merged: the last one starting at or before the sequence
  // is the only one that can hold it.
  auto after = std::upper_bound(hidden_ranges_.begin(), hidden_ranges_.end(), global_sequence,
                                [](uint64_t seq, const SequenceRange& r) { return seq < r.start; });
  if (after != hidden_ranges_.begin() && global_sequence < std::prev(after)->end) return std::prev(after)->end;
  return global_sequence;
}

uint64_t Index::first_sequence_of_segment_or_later(uint64_t segment_id) const {
  // Visible rows' segment ids never decrease with the global sequence: binary search.
  uint64_t low = first_sequence_;
  uint64_t high = end_sequence();
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    const uint64_t visible = visible_at_or_after(mid);
    if (visible >= end_sequence() || row(visible).entry.segment_id >= segment_id) {
      high = mid;
    } else {
      low = visible + 1;
    }
  }
  return low;
}

Index::SegmentRows Index::segment_rows(uint64_t segment_id) const {
  uint64_t first = 0;
  uint64_t end = 0;
  {
    std::shared_lock lock(mu_);
    first = first_sequence_of_segment_or_later(segment_id);
    end = first_sequence_of_segment_or_later(segment_id + 1);
  }
  SegmentRows out;
  constexpr uint64_t kRowsPerLock = 65536;
  bool hidden_seen = false;
  for (uint64_t piece = first; piece < end; piece += kRowsPerLock) {
    std::shared_lock lock(mu_);
    for (uint64_t seq = piece; seq < std::min(end, piece + kRowsPerLock); ++seq) {
      if (!visible_row(seq)) {
        hidden_seen = true;
        continue;
      }
      out.hidden_among = out.hidden_among || (hidden_seen && !out.rows.empty());
      out.rows.push_back(locate(seq));
    }
  }
  return out;
}

uint64_t Index::size() const {
  std::shared_lock lock(mu_);
  return end_sequence() - 1;
}

uint64_t Index::first_sequence() const {
  std::shared_lock lock(mu_);
  return first_sequence_;
}

uint64_t Index::visible_count() const {
  std::shared_lock lock(mu_);
  return rows_.size() - hidden_count_;
}

void Index::start_after_horizon(uint64_t first_sequence,
                                const std::vector<std::pair<std::string, EntityHead>>& heads) {
  std::unique_lock lock(mu_);
  start_after_horizon_locked(first_sequence, heads);
}

void Index::start_after_horizon_locked(uint64_t first_sequence,
                                       const std::vector<std::pair<std::string, EntityHead>>& heads) {
  assert(rows_.size() == 0 && entities_.empty() && first_sequence >= 1);
  first_sequence_ = first_sequence;
  published_rows_.store(first_sequence - 1, std::memory_order_release);
  for (const auto& [name, head] : heads) {
    const std::optional<uint32_t> id = add_entity(name);
    assert(id.has_value());
    EntityState& state = entities_[*id];
    state.horizon = head;
    state.head_hash = head.event_hash;
  }
}

uint64_t Index::entity_count() const {
  std::shared_lock lock(mu_);
  return entities_.size();
}

std::optional<uint64_t> Index::find(const EventId& id) const {
  std::shared_lock lock(mu_);
  assert(rows_with_ids_ == rows_.size());
  return by_id_.find(id);
}

Located Index::locate(uint64_t global_sequence) const {
  const Row& found = row(global_sequence);
  assert(found.entity != kHiddenEntity);
  return Located{found.entry, global_sequence, entities_[found.entity].name, scopes_[found.scope]};
}

std::variant<std::vector<Located>, uint64_t> Index::at_all(std::span<const uint64_t> global_sequences) const {
  std::shared_lock lock(mu_);
  std::vector<Located> out;
  out.reserve(global_sequences.size());
  for (uint64_t seq : global_sequences) {
    if (!visible_row(seq)) return seq;
    out.push_back(locate(seq));
  }
  return out;
}

std::optional<Located> Index::at(uint64_t global_sequence) const {
  std::shared_lock lock(mu_);
  if (!visible_row(global_sequence)) return std::nullopt;
  return locate(global_sequence);
}

std::optional<EntityHead> Index::head(std::string_view entity) const {
  std::shared_lock lock(mu_);
  const std::optional<uint32_t> id = entity_id(entity);
  if (!id) return std::nullopt;
  return head_of(entities_[*id]);
}

EntityHead Index::head_of(const EntityState& state) const {
  if (state.sequences.empty()) return state.horizon;
  const Entry& last = row(state.sequences.back()).entry;
  return EntityHead{last.clock, state.head_hash, last.wall_ms};
}

uint64_t Index::entity_generation(std::string_view entity) const {
  std::shared_lock lock(mu_);
  const std::optional<uint32_t> id = entity_id(entity);
  return id ? entities_[*id].generation() : 0;
}

std::vector<EntitySummary> Index::list_entities(std::string_view prefix, std::string_view after,
                                                size_t limit) const {
  const Region region = prefix.empty() ? Region::all() : Region::entity(std::string(prefix));
  std::shared_lock lock(mu_);
  std::vector<EntitySummary> out;
  // Every name in the namespace starts with `prefix`, so they lie in one run of the map.
  auto it = after < prefix ? entity_ids_.lower_bound(prefix) : entity_ids_.upper_bound(after);
  for (; it != entity_ids_.end() && out.size() < limit && it->first.starts_with(prefix); ++it) {
    if (!region.matches_entity(it->first)) continue;  // "order7" is not in "order".
    const EntityState& state = entities_[it->second];
    out.push_back({it->first, state.generation(), state.sequences.empty() ? 0 : state.sequences.back()});
  }
  return out;
}

std::vector<const Index::EntityState*> Index::matching_entities(const Region& region) const {
  std::vector<const EntityState*> out;
  const std::string& prefix = *region.entity_prefix;
  if (const std::optional<uint32_t> exact = entity_id(prefix)) out.push_back(&entities_[*exact]);
  const std::string child_prefix = prefix + ":";
  for (auto it = entity_ids_.lower_bound(child_prefix);
       it != entity_ids_.end() && it->first.starts_with(child_prefix); ++it) {
    out.push_back(&entities_[it->second]);
  }
  return out;
}

bool Index::row_matches(uint64_t global_sequence, const Region& region) const {
  const Row& r = row(global_sequence);
  return r.entity != kHiddenEntity &&
         region.matches(entities_[r.entity].name, scopes_[r.scope], r.entry.kind, r.entry.clock);
}

std::vector<Located> Index::select(const Region& region, uint64_t after, size_t limit) const {
  std::shared_lock lock(mu_);
  std::vector<Located> out;
  auto consider = [&](uint64_t seq) {
    if (row_matches(seq, region)) out.push_back(locate(seq));
  };
  if (!region.entity_prefix) {
    if (after >= end_sequence()) return out;  // Also keeps `after + 1` from wrapping to 0.
    for (uint64_t seq = std::max(after + 1, first_sequence_); seq < end_sequence() && out.size() < limit; ++seq) {
      consider(seq);
    }
    return out;
  }
  // Merge the matching entities' ascending sequence lists (k-way, smallest first).
  using Cursor = std::pair<const uint64_t*, const uint64_t*>;  // (next, end)
  auto later = [](const Cursor& a, const Cursor& b) { return *a.first > *b.first; };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  for (const EntityState* state : matching_entities(region)) {
    const auto& seqs = state->sequences;
    auto first = std::upper_bound(seqs.begin(), seqs.end(), after);
    if (first != seqs.end()) heap.emplace(&*first, seqs.data() + seqs.size());
  }
  while (!heap.empty() && out.size() < limit) {
    Cursor c = heap.top();
    heap.pop();
    consider(*c.first);
    if (++c.first != c.second) heap.push(c);
  }
  return out;
}

Index::EntityPlan Index::plan(std::string_view entity, std::span<const EventKind> kinds, uint64_t after) const {
  const auto relevant = [&kinds](EventKind kind) {
    return kinds.empty() || std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
  };
  std::shared_lock lock(mu_);
  EntityPlan out;
  const std::optional<uint32_t> id = entity_id(entity);
  if (!id) return out;
  const EntityState& state = entities_[*id];
  out.generation = state.generation();
  out.head_hash = state.head_hash;
  out.dropped_generation = state.horizon.clock;
  // An entity's sequences ascend: the events above `after` are a suffix.
  const size_t first = static_cast<size_t>(
      std::upper_bound(state.sequences.begin(), state.sequences.end(), after) - state.sequences.begin());
  if (kinds.empty()) {
    out.global_sequences.assign(state.sequences.begin() + static_cast<std::ptrdiff_t>(first), state.sequences.end());
  } else {
    for (size_t i = first; i < state.sequences.size(); ++i) {
      if (relevant(state.kinds[i])) out.global_sequences.push_back(state.sequences[i]);
    }
  }
  if (!out.global_sequences.empty()) {
    out.watermark = out.global_sequences.back();
    return out;
  }
  for (size_t i = first; i > 0; --i) {
    if (relevant(state.kinds[i - 1])) {
      out.watermark = state.sequences[i - 1];
      break;
    }
  }
  return out;
}

EntityHead Index::horizon_head(std::string_view entity) const {
  std::shared_lock lock(mu_);
  const std::optional<uint32_t> id = entity_id(entity);
  return id ? entities_[*id].horizon : EntityHead{};
}

std::vector<Located> Index::chain_back(std::string_view entity, uint32_t clock,
                                       size_t limit) const {
  std::shared_lock lock(mu_);
  std::vector<Located> out;
  const std::optional<uint32_t> id = entity_id(entity);
  if (!id) return out;
  const EntityState& state = entities_[*id];
  const uint64_t dropped = state.horizon.clock;  // Clocks 1 .. dropped are history dropped.
  for (uint64_t c = std::min<uint64_t>(clock, state.generation()); c > dropped && out.size() < limit; --c) {
    out.push_back(locate(state.sequences[c - dropped - 1]));
  }
  return out;
}

std::vector<std::pair<std::string, EntityHead>> Index::heads() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<std::string, EntityHead>> out;
  out.reserve(entities_.size());
  for (const EntityState& state : entities_) out.emplace_back(state.name, head_of(state));
  return out;
}

void Index::clear() {
  std::unique_lock lock(mu_);
  first_sequence_ = 1;
  rows_.clear();
  published_rows_.store(0, std::memory_order_release);
  by_id_.clear();
  entity_lookup_.clear();
  entity_ids_.clear();
  entities_.clear();
  scope_ids_.clear();
  scopes_.clear();
  hidden_count_ = 0;
  hidden_ranges_.clear();
  rows_with_ids_ = 0;
}

}  // namespace batpak::index
