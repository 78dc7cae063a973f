#include "services/auth/authorizer.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

constexpr char kTokens[] =
    "# Forewarn callers: TOKEN ROLE NAME\n"
    "\n"
    "viewer-token-0123456789 viewer dashboards\n"
    "  submitter-token-0123456789\tsubmitter  grid-scada  \n"
    "operator-token-0123456789 operator alice@ops\n";

TEST(Authorizer, ParsesTokensRolesAndNamesSkippingCommentsAndBlankLines) {
  auto auth = Authorizer::Parse(kTokens);
  ASSERT_TRUE(auth.ok()) << auth.status();
  EXPECT_EQ(auth->size(), 3u);
  auto op = auth->Authenticate("Bearer operator-token-0123456789");
  ASSERT_TRUE(op.ok()) << op.status();
  EXPECT_EQ(op->name, "alice@ops");
  EXPECT_EQ(op->role, Role::kOperator);
  auto sub = auth->Authenticate("bearer submitter-token-0123456789");  // scheme is case-insensitive
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->name, "grid-scada");
  EXPECT_EQ(sub->role, Role::kSubmitter);
}

TEST(Authorizer, MissingMalformedOrUnknownTokensAreUnauthenticated) {
  auto auth = Authorizer::Parse(kTokens);
  ASSERT_TRUE(auth.ok());
  for (const char* header : {"", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "viewer-token-0123456789",
                             "Bearer viewer-token-01234567890", "Bearer VIEWER-TOKEN-0123456789"}) {
    auto caller = auth->Authenticate(header);
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated) << "header: " << header;
  }
}

TEST(Authorizer, IncidentRolesIncludeTheLesserOnes) {
  const Caller viewer{"v", Role::kViewer}, submitter{"s", Role::kSubmitter}, op{"o", Role::kOperator};
  EXPECT_TRUE(Authorizer::Permit(viewer, Permission::kReadIncidents, "GetIncident").ok());
  EXPECT_EQ(Authorizer::Permit(viewer, Permission::kWriteIncidents, "CreateIncident").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorizer::Permit(submitter, Permission::kReadIncidents, "GetIncident").ok());
  EXPECT_TRUE(Authorizer::Permit(submitter, Permission::kWriteIncidents, "CreateIncident").ok());
  auto denied = Authorizer::Permit(submitter, Permission::kOperate, "ResolveIncident");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "s (submitter) may not ResolveIncident; requires operator");
  EXPECT_TRUE(Authorizer::Permit(op, Permission::kOperate, "ResolveIncident").ok());
  EXPECT_TRUE(Authorizer::Permit(op, Permission::kReadIncidents, "GetIncident").ok());
}

TEST(Authorizer, CustomerDataIsForDirectoryAndOperatorOnly) {
  const Caller viewer{"v", Role::kViewer}, submitter{"s", Role::kSubmitter}, op{"o", Role::kOperator},
      crm{"crm", Role::kDirectory};
  EXPECT_TRUE(Authorizer::Permit(crm, Permission::kCustomerData, "UpsertCustomers").ok());
  EXPECT_TRUE(Authorizer::Permit(op, Permission::kCustomerData, "GetCustomer").ok());
  auto denied = Authorizer::Permit(viewer, Permission::kCustomerData, "GetCustomer");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.message(), "v (viewer) may not GetCustomer; requires operator or directory");
  EXPECT_EQ(Authorizer::Permit(submitter, Permission::kCustomerData, "ListCustomers").code(),
            absl::StatusCode::kPermissionDenied);
  // The directory role reaches no incident method.
  for (Permission p : {Permission::kReadIncidents, Permission::kWriteIncidents, Permission::kOperate}) {
    EXPECT_EQ(Authorizer::Permit(crm, p, "GetIncident").code(), absl::StatusCode::kPermissionDenied);
  }
}

TEST(Authorizer, ParsesTheDirectoryRole) {
  auto auth = Authorizer::Parse("crm-sync-token-0123456789 directory crm-sync\n");
  ASSERT_TRUE(auth.ok()) << auth.status();
  auto caller = auth->Authenticate("Bearer crm-sync-token-0123456789");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->role, Role::kDirectory);
  EXPECT_EQ(caller->name, "crm-sync");
}

TEST(Authorizer, BadLinesAreRejectedNamingTheLineWithoutTheToken) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"only-two-fields-0123456789 viewer\n", "tokens:1: expected \"TOKEN ROLE NAME\", got 2 fields"},
      {"# c\ntoken-aaaaaaaaaaaaaaaa admin bob\n",
       "tokens:2: unknown role 'admin' (expected viewer, submitter, operator or directory)"},
      {"short viewer bob\n", "tokens:1: token too short (at least 16 characters)"},
      {"token-aaaaaaaaaaaaaaaa viewer bob\ntoken-aaaaaaaaaaaaaaaa operator eve\n", "tokens:2: duplicate token"},
      {"token-aaaaaaaaaaaaaaaa viewer bob smith\n", "tokens:1: expected \"TOKEN ROLE NAME\", got 4 fields"},
      {"token-aaaaaaaaaaaaaaaa viewer b\"ob\n", "tokens:1: invalid name 'b\"ob' (letters, digits and ._@- only)"},
      {"# nothing here\n\n", "tokens: no tokens"},
  };
  for (const auto& c : cases) {
    auto auth = Authorizer::Parse(c.text);
    EXPECT_EQ(auth.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_EQ(auth.status().message(), c.message) << c.text;
    EXPECT_EQ(std::string(auth.status().message()).find("aaaaaaaa"), std::string::npos) << "token leaked";
  }
}

TEST(Authorizer, LoadNamesTheFileAndFailsWhenUnreadable) {
  EXPECT_EQ(Authorizer::Load("/nonexistent/tokens").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Authorizer, KeepsOnlyDigestsOfTokens) {
  EXPECT_EQ(Sha256("abc").size(), 32u);
  // FIPS 180-2 test vector.
  const std::string d = Sha256("abc");
  EXPECT_EQ(static_cast<unsigned char>(d[0]), 0xba);
  EXPECT_EQ(static_cast<unsigned char>(d[31]), 0xad);
}

TEST(Role, ParsesAndPrints) {
  for (Role r : {Role::kViewer, Role::kSubmitter, Role::kOperator, Role::kDirectory}) EXPECT_EQ(*ParseRole(ToString(r)), r);
  EXPECT_FALSE(ParseRole("root").ok());
}

}  // namespace
}  // namespace forewarn
