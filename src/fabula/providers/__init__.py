"""Sources of realistic values that are too slow to call per row (Faker), turned into pools."""
