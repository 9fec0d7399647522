"""kefu: fair, explainable performance evaluation of e-commerce customer-service agents."""

__version__ = "0.1.0"
