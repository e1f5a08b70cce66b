// Tests of src/server (config): written with its implementation.
