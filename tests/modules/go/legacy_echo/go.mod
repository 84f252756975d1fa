module example.com/legacy_echo

go 1.21
