#include "folds.hpp"

namespace batpak::cli {

Status CountByKind::apply(State& state, const Event& event) {
  ++state.counts[event.header.kind.to_string()];
  return {};
}

nlohmann::json CountByKind::to_json(const State& state) { return state.counts; }

Status LastPayload::apply(State& state, const Event& event) {
  state.event_id = event.header.event_id.to_hex();
  state.clock = event.header.clock;
  state.payload = event.payload;
  return {};
}

nlohmann::json LastPayload::to_json(const State& state) {
  auto payload = payload_to_json(state.payload);
  return {{"event_id", state.event_id},
          {"clock", state.clock},
          {"payload", payload ? *payload : nlohmann::json(nullptr)}};
}

Status SumFields::apply(State& state, const Event& event) {
  auto value = payload_to_json(event.payload);
  if (!value || !value->is_object()) return {};
  for (const auto& [field, number] : value->items()) {
    if (number.is_number_integer()) {
      if (number.is_number_unsigned() && number.get<uint64_t>() > INT64_MAX) {
        return make_error(ErrorCode::kTooLarge, "field " + field + " holds a value over 2^63 - 1");
      }
      int64_t& sum = state.integers[field];
      if (__builtin_add_overflow(sum, number.get<int64_t>(), &sum)) {
        return make_error(ErrorCode::kTooLarge, "sum of field " + field + " overflows 64 bits");
      }
    } else if (number.is_number_float()) {
      state.reals[field] += number.get<double>();
    }
  }
  return {};
}

nlohmann::json SumFields::to_json(const State& state, const std::string& field) {
  auto integer = state.integers.find(field);
  auto real = state.reals.find(field);
  nlohmann::json sum = 0;
  if (real != state.reals.end()) {
    sum = real->second + (integer != state.integers.end() ? static_cast<double>(integer->second) : 0.0);
  } else if (integer != state.integers.end()) {
    sum = integer->second;
  }
  return {{"field", field}, {"sum", sum}};
}

}  // namespace batpak::cli
