"""Online RL with verifiable video rewards (GRPO): the verifiers' checks of every label type are the reward."""
