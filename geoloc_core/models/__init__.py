"""Network definitions that torchvision does not ship."""
