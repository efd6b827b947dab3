"""Cases: the state machine, the units' rectifications and their deadlines."""
