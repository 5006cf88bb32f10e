"""AWS wire formats: parse a request, call a service, serialize the answer."""
