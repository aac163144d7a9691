"""Small utilities shared by every layer of neuroflow."""
