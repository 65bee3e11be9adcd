// Placeholder until the engine lands: the executable only reports that it is not built yet.
print("staticdhcpd: the server is not built yet")
