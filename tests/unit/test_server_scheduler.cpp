// Tests of src/server (scheduler): written with its implementation.
