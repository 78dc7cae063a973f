#include "services/core/audience_lists.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace forewarn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kIban[] = "SA03 8000 0000 6080 1016 7519";  // valid
constexpr char kIbanCompact[] = "SA0380000000608010167519";

// Customers 1..10 exist; external ids "C-<id>"; the IBAN above is
// customer 3's. Lists are kept only when Store's fill succeeded.
class MemoryListStore final : public AudienceListStore {
 public:
  struct Stored {
    std::string created_by;
    AudienceListSummary summary;
    std::set<int64_t> members;
  };

  class MemoryUpload final : public Upload {
   public:
    absl::StatusOr<ChunkMatch> Add(const CheckedAudienceChunk& chunk, size_t max_sample) override {
      ChunkMatch m;
      auto found = [&](int64_t id, UnknownEntry::Kind kind, const std::string& text) {
        if (id >= 1 && id <= 10) {
          m.added += members.insert(id).second ? 1 : 0;
          return;
        }
        ++m.unknown;
        if (m.sample.size() < max_sample) m.sample.push_back({kind, text});
      };
      for (int64_t id : chunk.customer_ids) found(id, UnknownEntry::Kind::kId, std::to_string(id));
      for (const auto& e : chunk.external_ids) {
        int64_t id = 0;
        if (e.rfind("C-", 0) == 0) id = std::stoll(e.substr(2));
        found(id, UnknownEntry::Kind::kExternalId, e);
      }
      for (const auto& iban : chunk.ibans) found(iban == kIbanCompact ? 3 : 0, UnknownEntry::Kind::kIban, iban);
      return m;
    }
    std::set<int64_t> members;
  };

  absl::StatusOr<std::string> Store(const std::string& created_by,
                                    const std::function<absl::StatusOr<AudienceListSummary>(Upload&)>& fill) override {
    MemoryUpload upload;
    auto summary = fill(upload);
    if (!summary.ok()) return summary.status();
    const std::string id = absl::StrCat("list-", lists.size() + 1);
    lists[id] = Stored{created_by, *summary, upload.members};
    return id;
  }

  std::map<std::string, Stored> lists;
};

// A reader over `chunks`, then the end (or `error` instead of the end).
AudienceListService::ChunkReader Reader(std::vector<AudienceChunk> chunks, absl::Status error = absl::OkStatus()) {
  auto i = std::make_shared<size_t>(0);
  return [chunks = std::move(chunks), i, error]() -> absl::StatusOr<std::optional<AudienceChunk>> {
    if (*i < chunks.size()) return chunks[(*i)++];
    if (!error.ok()) return error;
    return std::nullopt;
  };
}

TEST(AudienceListsTest, CountsCustomersUnknownAndSamplesMasked) {
  MemoryListStore store;
  AudienceListService service(store);
  AudienceChunk first{"Feeder F-12 outage", {1, 2, 2, 99}, {"C-4", "X-1"}, {}};
  AudienceChunk second{"", {4}, {}, {kIban, "sa03 8000 0000 6080 1016 7519", "SA00 1234", "SA44 2000 0001 2345 6789 1234"}};
  auto r = service.Upload("ops.team", Reader({first, second}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "list-1");
  EXPECT_EQ(r->entries, 11);
  EXPECT_EQ(r->customers, 4);  // 1, 2, 4, 3
  EXPECT_EQ(r->unknown, 4);    // 99, X-1, the malformed IBAN, the valid IBAN nobody holds
  EXPECT_THAT(r->unknown_sample,
              ElementsAre("id:99", "external:X-1", "iban:********", "iban:SA44 **** 1234"));
  const auto& stored = store.lists.at("list-1");
  EXPECT_EQ(stored.created_by, "ops.team");
  EXPECT_EQ(stored.summary.label, "Feeder F-12 outage");
  EXPECT_EQ(stored.summary.customers, 4);
  EXPECT_EQ(stored.summary.unknown, 4);
  EXPECT_EQ(stored.members, (std::set<int64_t>{1, 2, 3, 4}));
}

TEST(AudienceListsTest, SampleHoldsAtMostTwenty) {
  MemoryListStore store;
  AudienceListService service(store);
  AudienceChunk c;
  for (int64_t id = 100; id < 137; ++id) c.customer_ids.push_back(id);
  c.customer_ids.push_back(5);
  auto r = service.Upload("a", Reader({c, c}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->unknown, 74);
  EXPECT_EQ(r->customers, 1);
  EXPECT_EQ(r->entries, 76);
  ASSERT_EQ(r->unknown_sample.size(), 20u);
  EXPECT_EQ(r->unknown_sample.front(), "id:100");
  EXPECT_EQ(r->unknown_sample.back(), "id:119");
}

TEST(AudienceListsTest, ChunkErrorsNameTheField) {
  auto err = [](int64_t index, AudienceChunk c) {
    auto r = CheckAudienceChunk(index, c);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_EQ(err(3, {"", {1, 2, 3, 4, 5, 0}, {}, {}}), "chunks[3].customer_ids[5]: must be positive");
  EXPECT_EQ(err(0, {"", {-7}, {}, {}}), "chunks[0].customer_ids[0]: must be positive");
  EXPECT_EQ(err(1, {"late", {1}, {}, {}}), "chunks[1].label: only the first chunk may carry the label");
  EXPECT_EQ(err(0, {std::string(201, 'l'), {1}, {}, {}}), "chunks[0].label: is 201 characters, at most 200 allowed");
  EXPECT_EQ(err(0, {"a\nb", {1}, {}, {}}), "chunks[0].label: must not contain control characters");
  EXPECT_EQ(err(0, {"\xc3", {1}, {}, {}}), "chunks[0].label: is not valid UTF-8");
  EXPECT_EQ(err(2, {"", {}, {"C-1", ""}, {}}), "chunks[2].external_ids[1]: must not be empty");
  EXPECT_EQ(err(2, {"", {}, {std::string(129, 'x')}, {}}), "chunks[2].external_ids[0]: is longer than 128 bytes");
  EXPECT_EQ(err(2, {"", {}, {"a\tb"}, {}}), "chunks[2].external_ids[0]: must not contain control characters");
  EXPECT_EQ(err(2, {"", {}, {"\xff"}, {}}), "chunks[2].external_ids[0]: is not valid UTF-8");
  AudienceChunk big;
  big.customer_ids.assign(kMaxAudienceChunkEntries, 1);
  EXPECT_TRUE(CheckAudienceChunk(0, big).ok());
  big.ibans.push_back("x");
  EXPECT_EQ(err(4, big), "chunks[4]: has 100001 entries, at most 100000 per chunk");
  // 200 characters of Arabic (400 bytes) and a 128-byte external id pass.
  std::string arabic;
  for (int i = 0; i < 200; ++i) arabic += "\xd8\xb9";
  EXPECT_TRUE(CheckAudienceChunk(0, {arabic, {}, {std::string(128, 'x'), "عميل 7"}, {}}).ok());
}

TEST(AudienceListsTest, IbansNormalisedMalformedOnesSetApart) {
  auto r = CheckAudienceChunk(0, {"", {}, {}, {"sa03 8000 0000 6080 1016 7519", "not an iban", "SA03 8000 0000 6080 1016 7518"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->ibans, ElementsAre(kIbanCompact));
  EXPECT_THAT(r->malformed_ibans, ElementsAre("not an iban", "SA03 8000 0000 6080 1016 7518"));
  EXPECT_EQ(r->entries(), 3);
}

TEST(AudienceListsTest, AFailedOrInvalidStreamStoresNothing) {
  MemoryListStore store;
  AudienceListService service(store);
  auto broken = service.Upload("a", Reader({{"", {1, 2}, {}, {}}}, absl::CancelledError("the caller cancelled")));
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kCancelled);
  auto invalid = service.Upload("a", Reader({{"", {1, 2}, {}, {}}, {"", {3, 0}, {}, {}}}));
  EXPECT_EQ(invalid.status().message(), "chunks[1].customer_ids[1]: must be positive");
  auto empty = service.Upload("a", Reader({}));
  EXPECT_EQ(empty.status().message(), "chunks: the list has no entries");
  auto empty_chunks = service.Upload("a", Reader({{"label", {}, {}, {}}, {}}));
  EXPECT_EQ(empty_chunks.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store.lists.empty());
}

TEST(AudienceListsTest, SampleTexts) {
  EXPECT_EQ(SampleText({UnknownEntry::Kind::kId, "17"}), "id:17");
  EXPECT_EQ(SampleText({UnknownEntry::Kind::kExternalId, "C-1"}), "external:C-1");
  EXPECT_EQ(SampleText({UnknownEntry::Kind::kIban, kIbanCompact}), "iban:SA03 **** 7519");
  EXPECT_THAT(SampleText({UnknownEntry::Kind::kIban, kIban}), HasSubstr("7519"));
}

}  // namespace
}  // namespace forewarn
