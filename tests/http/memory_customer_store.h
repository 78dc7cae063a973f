#pragma once

// A CustomerStore in memory for the public endpoint's HTTP tests.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "services/directory/directory_ports.h"

namespace forewarn {

// Customers by id; only what the two no-login use cases need.
class MemoryCustomerStore final : public CustomerStore {
 public:
  void Add(Customer c) {
    std::lock_guard lock(mu_);
    customers_[c.id] = std::move(c);
  }
  Customer At(int64_t id) {
    std::lock_guard lock(mu_);
    return customers_.at(id);
  }
  void Erase(int64_t id) {
    std::lock_guard lock(mu_);
    customers_.erase(id);
  }
  void set_down(bool down) { down_ = down; }
  int writes() const { return writes_; }

  absl::StatusOr<std::vector<Customer>> ModifyPreferences(
      const CustomerSelector& who, PreferenceSource,
      const std::function<absl::StatusOr<Preferences>(const Customer&)>& change) override {
    if (down_) return absl::UnavailableError("database down");
    std::lock_guard lock(mu_);
    std::vector<Customer*> matched;
    for (auto& [id, c] : customers_) {
      if ((who.by == CustomerSelector::By::kId && id == who.id) ||
          (who.by == CustomerSelector::By::kPhone && c.phone == who.text)) {
        matched.push_back(&c);
      }
    }
    if (matched.empty()) return absl::NotFoundError("no such customer");
    std::vector<Preferences> next;
    for (Customer* c : matched) {
      auto p = change(*c);
      if (!p.ok()) return p.status();
      next.push_back(*p);
    }
    std::vector<Customer> out;
    for (size_t i = 0; i < matched.size(); ++i) {
      matched[i]->preferences = next[i];
      out.push_back(*matched[i]);
    }
    ++writes_;
    return out;
  }

  absl::StatusOr<Catalog> LoadCatalog() override { return Catalog{}; }
  absl::StatusOr<std::vector<UpsertRow>> Upsert(const std::vector<Customer>&, bool) override { return Unused(); }
  absl::Status MarkSeen(const std::string&, const std::vector<std::string>&) override { return Unused(); }
  absl::StatusOr<int64_t> EraseUnseen(const std::string&, bool) override { return Unused(); }
  absl::Status ForgetSync(const std::string&) override { return Unused(); }
  absl::StatusOr<Customer> Get(std::string_view) override { return Unused(); }
  absl::StatusOr<Erasure> Erase(std::string_view) override { return Unused(); }
  absl::StatusOr<CustomerPage> List(const CustomerFilter&) override { return Unused(); }

 private:
  static absl::Status Unused() { return absl::UnimplementedError("not used by the public endpoint"); }
  std::mutex mu_;
  std::map<int64_t, Customer> customers_;
  std::atomic<bool> down_{false};
  std::atomic<int> writes_{0};
};

}  // namespace forewarn
