"""The engines that carry a function's results to its routes: Lambda Destinations and Step Functions."""
