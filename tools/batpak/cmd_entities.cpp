// entities: the entities of a store or of one namespace, in name order (Store::list_entities).
#include <algorithm>
#include <string>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct EntitiesArgs {
  std::string dir;
  std::string prefix;  // Empty: every entity.
  std::string after;   // Empty: from the first.
  uint64_t limit = UINT64_MAX;
};

int run_entities(const EntitiesArgs& a) {
  Opened opened = open_store(a.dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  constexpr uint64_t kPage = 4096;
  std::string after = a.after;
  for (uint64_t printed = 0; printed < a.limit;) {
    const uint64_t want = std::min(kPage, a.limit - printed);
    auto page = opened.store->list_entities(a.prefix, after, static_cast<size_t>(want));
    if (!page) return report_error(page.error());
    for (const EntitySummary& e : *page) {
      print_line({{"entity", e.entity}, {"generation", e.generation}, {"last_global_sequence", e.last_global_sequence}});
    }
    printed += page->size();
    if (page->size() < want) break;
    after = page->back().entity;
  }
  return kExitOk;
}

}  // namespace

void add_entities_command(CLI::App& app, Runner& run) {
  static EntitiesArgs args;
  auto* entities = app.add_subcommand("entities", "Print the entities of the store (or of one namespace) in name order");
  entities->add_option("DIR", args.dir, "data directory")->required();
  entities->add_option("--prefix", args.prefix, "only this entity and its namespace (PREFIX and PREFIX:*)");
  entities->add_option("--after", args.after, "only entities whose names sort after this one (for paging)")
      ->type_name("ENTITY");
  entities->add_option("--limit", args.limit, "at most this many entities")->check(decimal_number());
  entities->callback([&run] { run = [] { return run_entities(args); }; });
}

}  // namespace batpak::cli
