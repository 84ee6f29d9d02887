"""Student submission package: implement the stubs in these five modules."""
