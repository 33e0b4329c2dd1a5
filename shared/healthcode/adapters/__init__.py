"""Every AWS call of the layer: ``base`` holds the Protocols the use cases depend on; each other module
implements one of them over one table or service, with its boto3 client injected."""
