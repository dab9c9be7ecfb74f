"""A worked lora-claims plugin: the Eckart–Young bound for rank-r LoRA updates, and its control."""
