// Customer records between the API's messages and the directory's domain.
#include "services/convert/customer_convert.h"

#include <gtest/gtest.h>

namespace forewarn {
namespace {

TEST(CustomerConvert, AnUnsetChannelSetMeansBothChannels) {
  v1::Preferences p;
  p.mutable_planned_maintenance();  // present, both off
  p.mutable_banking_changes()->set_email(true);
  const Preferences d = FromProto(p);
  EXPECT_EQ(d.unplanned_outages, (ChannelSet{true, true}));
  EXPECT_EQ(d.planned_maintenance, (ChannelSet{false, false}));
  EXPECT_EQ(d.banking_changes, (ChannelSet{false, true}));
  EXPECT_EQ(FromProto(v1::Preferences{}), Preferences{});
}

TEST(CustomerConvert, RoundTrips) {
  Customer c;
  c.id = 9;
  c.external_id = "C1";
  c.name = "Ali";
  c.locale = "ar";
  c.time_zone = "Asia/Riyadh";
  c.phone = "+966500000001";
  c.email = "a@example.com";
  c.services = {{"electricity", "riyadh"}, {"water", "jeddah"}};
  c.accounts = {"SA0380000000608010167519"};
  c.beneficiaries = {{"SA4420000001234567891234", "Rent"}};
  c.preferences.planned_maintenance = ChannelSet{false, false};
  v1::Customer p;
  ToProto(c, &p);
  EXPECT_EQ(p.language(), "ar");
  EXPECT_TRUE(p.preferences().has_unplanned_outages());  // every category explicit
  EXPECT_EQ(FromProto(p), c);
}

}  // namespace
}  // namespace forewarn
