"""From labeled replies to a promoted model: datasets, costs, trainers, the gate."""
