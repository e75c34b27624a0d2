"""The dataset pipeline: labeled replies to curated train/validation JSONL."""
