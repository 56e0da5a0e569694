/*
 * The seed document's C client (xmlrpc-c, Debian libxmlrpc-core-c3-dev), runnable. Same structure
 * as the seed: client_connect() sets up the global client with the curl transport and a
 * user agent, xmlrpc_client_call_params() makes each call, client_check_fault() checks the env.
 * The server URL comes from argv[1] (the test server is plain http on loopback, so the seed's
 * TLS verification settings are kept but have nothing to verify).
 *
 * Build: gcc gandi_client.c $(xmlrpc-c-config client --cflags --libs)   (the test does this)
 * Usage: ./gandi_client URL [APIKEY]   (APIKEY defaults to the seed's placeholder key)
 * Output: see gandi_client.py (the format is shared by every peer in this folder).
 *
 * xmlrpc-c reads <nil/> and <i8> without options (XMLRPC_TYPE_NIL, XMLRPC_TYPE_I8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlrpc.h>
#include <xmlrpc_client.h>

#define CLIENT_NAME "Documentation Client"
#define CLIENT_VERSION "0.1"
#define CLIENT_USERAGENT CLIENT_NAME "/" CLIENT_VERSION

int client_connect(xmlrpc_env *);
void client_check_fault(xmlrpc_env *);
static void show_member(xmlrpc_env *, const char *, xmlrpc_value *, const char *);

int
main(int argc, char **argv)
{
	xmlrpc_env env;
	xmlrpc_value *apikey, *rv, *item;
	const char *server_url, *key;
	int count;

	if (argc < 2) {
		fprintf(stderr, "usage: %s URL [APIKEY]\n", argv[0]);
		return (1);
	}
	server_url = argv[1];
	key = argc > 2 ? argv[2] : "my 24-character API key";

	client_connect(&env);
	apikey = xmlrpc_build_value(&env, "(s)", key);
	client_check_fault(&env);

	rv = xmlrpc_client_call_params(&env, server_url, "version.info", apikey);
	client_check_fault(&env);
	show_member(&env, "", rv, "api_version");
	xmlrpc_DECREF(rv);

	rv = xmlrpc_client_call_params(&env, server_url, "paas.list", apikey);
	client_check_fault(&env);
	count = xmlrpc_array_size(&env, rv);
	client_check_fault(&env);
	printf("paas.count=%d\n", count);
	if (count > 0) {
		static const char *const fields[] = { "id", "name", "size", "date_end",
		    "date_end_commitment", "need_upgrade", NULL };
		xmlrpc_value *servers, *server;
		int i;

		xmlrpc_array_read_item(&env, rv, 0, &item);
		client_check_fault(&env);
		for (i = 0; fields[i] != NULL; i++)
			show_member(&env, "paas[0].", item, fields[i]);
		xmlrpc_struct_read_value(&env, item, "servers", &servers);
		client_check_fault(&env);
		xmlrpc_array_read_item(&env, servers, 0, &server);
		client_check_fault(&env);
		show_member(&env, "paas[0].servers[0].", server, "id");
		xmlrpc_DECREF(server);
		xmlrpc_DECREF(servers);
		xmlrpc_DECREF(item);
	}
	xmlrpc_DECREF(rv);
	xmlrpc_DECREF(apikey);
	xmlrpc_env_clean(&env);
	xmlrpc_client_cleanup();
	return (0);
}

int
client_connect(xmlrpc_env *env)
{
	struct xmlrpc_clientparms clientp;
	struct xmlrpc_curl_xportparms curlp;

	memset(&curlp, 0, sizeof(curlp));
	memset(&clientp, 0, sizeof(clientp));
	curlp.network_interface = NULL; /* use curl's default */
	/*
	 * The seed writes "ssl_verifypeer = 1; ssl_verifyhost = 2", which does not compile against
	 * xmlrpc-c 1.33 (Debian bookworm): those fields are now no_ssl_verifypeer/no_ssl_verifyhost,
	 * where 0 (the default) means "verify". Same intent, today's names.
	 */
	curlp.no_ssl_verifypeer = 0; /* Gandi API CA must be present */
	curlp.no_ssl_verifyhost = 0;
	curlp.user_agent = CLIENT_USERAGENT; /* XML-RPC requirement */
	clientp.transport = "curl";
	clientp.transportparmsP = &curlp;
	clientp.transportparm_size = XMLRPC_CXPSIZE(user_agent);
	xmlrpc_env_init(env);
	xmlrpc_client_init2(env, XMLRPC_CLIENT_NO_FLAGS, CLIENT_NAME,
	    CLIENT_VERSION, &clientp, XMLRPC_CPSIZE(transportparm_size));
	client_check_fault(env);
	return (1);
}

/*
 * The seed prints faults to stderr and exits 1; here a fault the server sent is printed in the
 * shared format with exit 2, and a local error (transport, parse, type) goes to stderr, exit 1.
 * xmlrpc-c puts both in the env; a server fault keeps the server's (positive) code, local
 * errors use xmlrpc-c's own negative codes.
 */
void
client_check_fault(xmlrpc_env *env)
{
	if (env->fault_occurred) {
		if (env->fault_code > 0) {
			printf("fault=%d \"%s\"\n", env->fault_code, env->fault_string);
			exit(2);
		}
		fprintf(stderr, "error: XML-RPC Fault: %s (%d)\n", env->fault_string,
		    env->fault_code);
		exit(1);
	}
}

/* Prints PREFIX NAME=VALUE for the member NAME of the struct S, in the shared format. */
static void
show_member(xmlrpc_env *env, const char *prefix, xmlrpc_value *s, const char *name)
{
	xmlrpc_value *v;

	xmlrpc_struct_find_value(env, s, name, &v);
	client_check_fault(env);
	printf("%s%s=", prefix, name);
	if (v == NULL) {
		printf("missing\n");
		return;
	}
	switch (xmlrpc_value_type(v)) {
	case XMLRPC_TYPE_INT: {
		int i;
		xmlrpc_read_int(env, v, &i);
		printf("%d\n", i);
		break;
	}
	case XMLRPC_TYPE_I8: {
		xmlrpc_int64 i;
		xmlrpc_read_i8(env, v, &i);
		printf("%lld\n", (long long)i);
		break;
	}
	case XMLRPC_TYPE_BOOL: {
		xmlrpc_bool b;
		xmlrpc_read_bool(env, v, &b);
		printf("%s\n", b ? "true" : "false");
		break;
	}
	case XMLRPC_TYPE_STRING: {
		const char *str;
		xmlrpc_read_string(env, v, &str);
		client_check_fault(env);
		printf("\"%s\"\n", str);
		free((void *)str);
		break;
	}
	case XMLRPC_TYPE_NIL:
		printf("nil\n");
		break;
	case XMLRPC_TYPE_DATETIME: {
		const char *str;
		xmlrpc_read_datetime_str(env, v, &str);
		client_check_fault(env);
		printf("dateTime:%s\n", str);
		free((void *)str);
		break;
	}
	default:
		printf("other:%d\n", (int)xmlrpc_value_type(v));
	}
	client_check_fault(env);
	xmlrpc_DECREF(v);
}
