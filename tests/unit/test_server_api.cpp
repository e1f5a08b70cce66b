// Tests of src/server (api): written with its implementation.
