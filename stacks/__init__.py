"""Example stacks, composed from constructs_lib. One file a stack."""
