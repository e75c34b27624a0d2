"""The `local` backend: LoRA training in a child process (worker.py, the only
module that imports torch) and serving through vLLM's runtime LoRA API."""
