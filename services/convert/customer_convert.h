#pragma once

// Conversions between the customer directory's messages (forewarn.v1
// directory.proto) and its domain (services/directory/customer.h).

#include "forewarn/v1/directory.pb.h"
#include "services/directory/asset.h"
#include "services/directory/customer.h"

namespace forewarn {

// An unset ChannelSet message (a category the caller did not mention) is
// both channels; an unset Preferences, both channels everywhere.
ChannelSet FromProto(const v1::ChannelSet& set, bool present);
Preferences FromProto(const v1::Preferences& prefs);
Customer FromProto(const v1::Customer& customer);

// Every category is set explicitly.
void ToProto(const Preferences& prefs, v1::Preferences* out);
void ToProto(const Customer& customer, v1::Customer* out);

// The network asset tree's nodes.
Asset FromProto(const v1::Asset& asset);
void ToProto(const Asset& asset, v1::Asset* out);

}  // namespace forewarn
