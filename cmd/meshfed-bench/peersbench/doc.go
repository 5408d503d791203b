// Package peersbench measures the same-network waypoint side by side with the proxies users
// would otherwise put in the path, HAProxy (HTTP and TCP modes) and nginx, at equal worker
// counts, with the same backends, load and rounds, and prints each figure as a ratio
// waypoint/peer; and the cross-network path, two waypoints joined by HBONE (h2, h3), side by
// side with two HAProxy and two nginx joined by mutual TLS. It backs `meshfed-bench peers`;
// see ../README.md for the columns.
package peersbench
