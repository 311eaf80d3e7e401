"""What an app costs a month, from its templates alone: a price table per region, a pricer
per resource type, and the usage assumptions that usage-billed items are priced under."""
